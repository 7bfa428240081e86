import type { Task } from "../task";
import { MinHeap } from "./heap";
import { RelaxedTask } from "./relaxed";

/**
 * The FF heuristic (Hoffmann & Nebel 2001) on h_add best supporters: the cost of a relaxed
 * plan extracted backwards from the goal, and its operators applicable in the state as
 * preferred operators. Inadmissible; for greedy search.
 */
export class FFHeuristic {
  private readonly r: RelaxedTask;
  private readonly factCost: Float64Array;
  private readonly supporter: Int32Array;
  private readonly unsat: Int32Array;
  private readonly opCost: Float64Array;
  private readonly opMark: Int32Array;
  private readonly factMark: Int32Array;
  private readonly goalFact: Uint8Array;
  /**
   * A heap even for integer costs: its order among equal costs picks the supporters that
   * made the best relaxed plans on the IPC ladder (bucket queues cost 10-50x more expansions
   * in visit-all), though buckets pop faster.
   */
  private readonly heap = new MinHeap();
  private stamp = 0;
  private readonly stack: number[] = [];
  private readonly stateFacts: number[] = [];
  /** The preferred operators of the last evaluated state. */
  readonly preferred: number[] = [];

  constructor(task: Task, costs: "real" | "unit" = "unit") {
    this.r = new RelaxedTask(task, costs);
    this.factCost = new Float64Array(this.r.facts);
    this.supporter = new Int32Array(this.r.facts);
    this.unsat = new Int32Array(this.r.ops);
    this.opCost = new Float64Array(this.r.ops);
    this.opMark = new Int32Array(this.r.ops);
    this.factMark = new Int32Array(this.r.facts);
    this.goalFact = new Uint8Array(this.r.facts);
    for (const g of this.r.goal) this.goalFact[g] = 1;
  }

  /** The heuristic value of `state` (Infinity for a dead end); fills `preferred`. */
  evaluate(state: Uint32Array): number {
    const r = this.r;
    const { factCost, supporter, unsat, opCost, heap } = this;
    this.preferred.length = 0;
    factCost.fill(Number.POSITIVE_INFINITY);
    supporter.fill(-1);
    heap.clear();
    for (const f of r.stateFacts(state, this.stateFacts)) {
      factCost[f] = 0;
      heap.push(0, f);
    }
    for (let o = 0; o < r.ops; o++) {
      unsat[o] = r.preStart[o + 1]! - r.preStart[o]!;
      opCost[o] = 0;
      if (unsat[o] === 0) this.apply(o, r.cost[o]!);
    }
    let open = r.goal.length;
    while (heap.size > 0 && open > 0) {
      const key = heap.topKey();
      const f = heap.pop();
      if (key > factCost[f]!) continue;
      if (this.goalFact[f] === 1) open--;
      for (let i = r.usersStart[f]!; i < r.usersStart[f + 1]!; i++) {
        const o = r.users[i]!;
        opCost[o]! += key;
        if (--unsat[o]! === 0) this.apply(o, opCost[o]! + r.cost[o]!);
      }
    }
    for (const g of r.goal) if (factCost[g] === Number.POSITIVE_INFINITY) return Infinity;
    return this.relaxedPlan();
  }

  private apply(o: number, cost: number): void {
    const r = this.r;
    for (let i = r.addStart[o]!; i < r.addStart[o + 1]!; i++) {
      const g = r.add[i]!;
      if (cost < this.factCost[g]!) {
        this.factCost[g] = cost;
        this.supporter[g] = o;
        this.heap.push(cost, g);
      }
    }
  }

  private relaxedPlan(): number {
    const r = this.r;
    const stamp = ++this.stamp;
    const stack = this.stack;
    stack.length = 0;
    for (const g of r.goal) stack.push(g);
    let h = 0;
    while (stack.length > 0) {
      const f = stack.pop()!;
      if (this.factMark[f] === stamp || this.factCost[f] === 0) continue;
      this.factMark[f] = stamp;
      const o = this.supporter[f]!;
      if (this.opMark[o] === stamp) continue;
      this.opMark[o] = stamp;
      h += r.cost[o]!;
      let applicable = true;
      for (let i = r.preStart[o]!; i < r.preStart[o + 1]!; i++) {
        const p = r.pre[i]!;
        if (this.factCost[p] !== 0) {
          applicable = false;
          stack.push(p);
        }
      }
      if (applicable) this.preferred.push(o);
    }
    return h;
  }
}
