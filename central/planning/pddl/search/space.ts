import { bitsetOf, StateRegistry } from "../states";
import type { Task } from "../task";

/** What a search ends with when no limit stopped it. */
export type SearchOutcome = { kind: "plan"; ops: number[] } | { kind: "unsolvable" };

/**
 * Searches pause every so many expansions so a driver can check limits or yield: a greedy
 * expansion evaluates one state, an A* expansion all its successors (with LM-cut, costlier).
 */
export const PAUSE_EVERY = { greedy: 128, astar: 8 } as const;

/**
 * The states a search has met: interned bitsets plus, per state, how it was first (or best)
 * reached. Shared by the greedy and the optimal search.
 */
export class SearchSpace {
  readonly registry: StateRegistry;
  parent = new Int32Array(1024);
  via = new Int32Array(1024);
  readonly scratch: Uint32Array;
  private readonly goalMask: Uint32Array;
  private readonly goalNegMask: Uint32Array;

  constructor(readonly task: Task) {
    this.registry = new StateRegistry(task.facts.length);
    this.scratch = new Uint32Array(this.registry.words);
    this.goalMask = bitsetOf(task.goal, this.registry.words);
    this.goalNegMask = bitsetOf(task.goalNeg, this.registry.words);
  }

  initial(): Uint32Array {
    return bitsetOf(this.task.init, this.registry.words);
  }

  /** Interns a state; for a new one, records it was reached from `parent` by `op`. */
  intern(state: Uint32Array, parent: number, op: number): { id: number; fresh: boolean } {
    const r = this.registry.intern(state);
    if (r.fresh) {
      this.grow(r.id);
      this.parent[r.id] = parent;
      this.via[r.id] = op;
    }
    return r;
  }

  /** Writes into `out` the state `op` leads to from state `id`. */
  successor(id: number, op: number, out: Uint32Array): void {
    this.registry.read(id, out);
    const o = this.task.operators[op]!;
    for (const f of o.del) out[f >>> 5]! &= ~(1 << (f & 31));
    for (const f of o.add) out[f >>> 5]! |= 1 << (f & 31);
  }

  isGoal(state: Uint32Array): boolean {
    for (let w = 0; w < state.length; w++) {
      if ((state[w]! & this.goalMask[w]!) >>> 0 !== this.goalMask[w]) return false;
      if ((state[w]! & this.goalNegMask[w]!) !== 0) return false;
    }
    return true;
  }

  /** The operators from the initial state to `id`. */
  path(id: number): number[] {
    const ops: number[] = [];
    for (let s = id; this.parent[s]! >= 0; s = this.parent[s]!) ops.push(this.via[s]!);
    return ops.reverse();
  }

  private grow(id: number): void {
    if (id < this.parent.length) return;
    const n = this.parent.length * 2;
    const parent = new Int32Array(n);
    parent.set(this.parent);
    this.parent = parent;
    const via = new Int32Array(n);
    via.set(this.via);
    this.via = via;
  }
}
