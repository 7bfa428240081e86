import { type IpcDomain, random } from "../../../../bench/pddl/domains";
import { ground } from "../../../../central/planning/pddl/ground";
import type { Task } from "../../../../central/planning/pddl/task";
import { readDomain, readProblem } from "../../../../contract/pddl";

/** Grounds a domain and problem to the end. */
export function taskOf(domain: string, problem: string): Task {
  const d = readDomain(domain);
  const run = ground(d, readProblem(problem, d));
  for (;;) {
    const r = run.next();
    if (r.done) return r.value;
  }
}

export function ipcTask(domain: IpcDomain, size: number, seed = 1): Task {
  return taskOf(domain.domain, domain.problem(size, seed));
}

/** The same task started from other facts. */
export const from = (task: Task, facts: number[]): Task => ({ ...task, init: facts });

/** A seeded shuffle-based topological order of a partial order over n steps. */
export function linearisation(n: number, order: [number, number][], seed: number): number[] {
  const rng = random(seed);
  const preds = new Array<number>(n).fill(0);
  const succ: number[][] = Array.from({ length: n }, () => []);
  for (const [i, j] of order) {
    preds[j]!++;
    succ[i]!.push(j);
  }
  const ready = [...Array(n).keys()].filter((i) => preds[i] === 0);
  const out: number[] = [];
  while (ready.length > 0) {
    const k = Math.floor(rng() * ready.length);
    const i = ready.splice(k, 1)[0]!;
    out.push(i);
    for (const j of succ[i]!) if (--preds[j]! === 0) ready.push(j);
  }
  return out;
}
