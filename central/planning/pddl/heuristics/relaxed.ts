import type { Task } from "../task";

/**
 * The delete relaxation of a task in flat arrays (compressed rows), shared by the heuristics:
 * each operator's positive preconditions and adds, and for each fact the operators that need
 * it. Negative preconditions are dropped: ignoring conditions only relaxes, so heuristics on
 * this stay admissible and dead ends they find are real.
 */
export class RelaxedTask {
  readonly facts: number;
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
    this.facts = task.facts.length;
    this.ops = task.operators.length;
    const ops = task.operators;
    this.preStart = offsets(ops.map((o) => o.pre.length));
    this.pre = Int32Array.from(ops.flatMap((o) => o.pre));
    this.addStart = offsets(ops.map((o) => o.add.length));
    this.add = Int32Array.from(ops.flatMap((o) => o.add));
    this.cost = Float64Array.from(ops.map((o) => (costs === "unit" ? 1 : o.cost)));
    this.goal = Int32Array.from(task.goal);
    const counts = new Array<number>(this.facts).fill(0);
    for (const o of ops) for (const f of o.pre) counts[f]!++;
    this.usersStart = offsets(counts);
    this.users = new Int32Array(this.usersStart[this.facts]!);
    const fill = this.usersStart.slice(0, this.facts);
    ops.forEach((o, i) => {
      for (const f of o.pre) this.users[fill[f]!++] = i;
    });
  }
}

function offsets(counts: number[]): Int32Array {
  const out = new Int32Array(counts.length + 1);
  for (let i = 0; i < counts.length; i++) out[i + 1] = out[i]! + counts[i]!;
  return out;
}
