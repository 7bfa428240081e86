import { hasFact } from "../states";
import type { Task } from "../task";

/**
 * The delete relaxation of a task in flat arrays (compressed rows), shared by the heuristics:
 * each operator's preconditions and adds, and for each fact the operators that need it.
 * A fact that some condition needs false gets a complement fact "not f" (as Fast Downward's
 * translator does): true in a state where f is false, added by the operators that delete f.
 * So negative preconditions inform the heuristics instead of being dropped.
 */
export class RelaxedTask {
  /** Facts of the task, then complements. */
  readonly facts: number;
  readonly baseFacts: number;
  /** For complement `baseFacts + k`, the fact it negates. */
  readonly negates: Int32Array;
  readonly ops: number;
  readonly preStart: Int32Array;
  readonly pre: Int32Array;
  readonly addStart: Int32Array;
  readonly add: Int32Array;
  readonly usersStart: Int32Array;
  readonly users: Int32Array;
  readonly cost: Float64Array;
  readonly goal: Int32Array;

  constructor(task: Task, costs: "real" | "unit") {
    this.baseFacts = task.facts.length;
    const complement = new Map<number, number>();
    for (const f of [...task.operators.flatMap((o) => o.preNeg), ...task.goalNeg])
      if (!complement.has(f)) complement.set(f, this.baseFacts + complement.size);
    this.negates = Int32Array.from(complement.keys());
    this.facts = this.baseFacts + complement.size;
    this.ops = task.operators.length;
    const ops = task.operators;
    const pre = ops.map((o) => [...o.pre, ...o.preNeg.map((f) => complement.get(f)!)]);
    const add = ops.map((o) => [
      ...o.add,
      ...o.del.flatMap((f) => (complement.has(f) ? [complement.get(f)!] : [])),
    ]);
    this.preStart = offsets(pre.map((p) => p.length));
    this.pre = Int32Array.from(pre.flat());
    this.addStart = offsets(add.map((a) => a.length));
    this.add = Int32Array.from(add.flat());
    this.cost = Float64Array.from(ops.map((o) => (costs === "unit" ? 1 : o.cost)));
    this.goal = Int32Array.from([...task.goal, ...task.goalNeg.map((f) => complement.get(f)!)]);
    const counts = new Array<number>(this.facts).fill(0);
    for (const p of pre) for (const f of p) counts[f]!++;
    this.usersStart = offsets(counts);
    this.users = new Int32Array(this.usersStart[this.facts]!);
    const fill = this.usersStart.slice(0, this.facts);
    pre.forEach((p, i) => {
      for (const f of p) this.users[fill[f]!++] = i;
    });
  }

  /** Writes into `out` the facts (complements included) true in `state`. */
  stateFacts(state: Uint32Array, out: number[]): number[] {
    out.length = 0;
    for (let f = 0; f < this.baseFacts; f++) if (hasFact(state, f)) out.push(f);
    for (let k = 0; k < this.negates.length; k++)
      if (!hasFact(state, this.negates[k]!)) out.push(this.baseFacts + k);
    return out;
  }
}

function offsets(counts: number[]): Int32Array {
  const out = new Int32Array(counts.length + 1);
  for (let i = 0; i < counts.length; i++) out[i + 1] = out[i]! + counts[i]!;
  return out;
}
