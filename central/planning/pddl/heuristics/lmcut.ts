import type { Task } from "../task";
import { type BucketQueue, explorationQueue, type MinHeap } from "./heap";
import { RelaxedTask } from "./relaxed";

const INF = Number.POSITIVE_INFINITY;

/**
 * The LM-cut heuristic (Helmert & Domshlak 2009), admissible: repeatedly compute h_max, find a
 * cut of the justification graph between the state and the goal (a disjunctive action
 * landmark), add its cheapest cost and subtract that from the cut's operators, until the goal
 * costs nothing more. Two artificial facts stand for "the state" (precondition of operators
 * that have none) and "the goal" (added by an artificial operator that needs the goal).
 * `hmax()` gives plain h_max, also admissible but weaker.
 */
export class LMCutHeuristic {
  private readonly r: RelaxedTask;
  private readonly nFacts: number;
  private readonly nOps: number;
  private readonly initFact: number;
  private readonly goalFact: number;
  private readonly preStart: Int32Array;
  private readonly pre: Int32Array;
  private readonly addStart: Int32Array;
  private readonly add: Int32Array;
  private readonly usersStart: Int32Array;
  private readonly users: Int32Array;
  private readonly achieversStart: Int32Array;
  private readonly achievers: Int32Array;
  private readonly baseCost: Float64Array;
  private readonly cost: Float64Array;
  private readonly hmaxFact: Float64Array;
  private readonly unsat: Int32Array;
  private readonly supporter: Int32Array;
  private readonly supporterCost: Float64Array;
  /** Per fact, the first operator it supports; per operator, its neighbours in that list. */
  private readonly supportedHead: Int32Array;
  private readonly supportedNext: Int32Array;
  private readonly supportedPrev: Int32Array;
  private readonly zone: Uint8Array;
  private readonly seen: Uint8Array;
  private readonly heap: MinHeap | BucketQueue;
  private readonly stack: number[] = [];
  /** The evaluated state's facts and the artificial "state" fact. */
  private readonly stateFacts: number[] = [];

  constructor(task: Task) {
    const r = new RelaxedTask(task, "real");
    this.r = r;
    this.initFact = r.facts;
    this.goalFact = r.facts + 1;
    this.nFacts = r.facts + 2;
    this.nOps = r.ops + 1;
    const goalOp = r.ops;
    const preLists: number[][] = [];
    const addLists: number[][] = [];
    for (let o = 0; o < r.ops; o++) {
      const pre = Array.from(r.pre.subarray(r.preStart[o]!, r.preStart[o + 1]!));
      preLists.push(pre.length === 0 ? [this.initFact] : pre);
      addLists.push(Array.from(r.add.subarray(r.addStart[o]!, r.addStart[o + 1]!)));
    }
    preLists.push(r.goal.length === 0 ? [this.initFact] : Array.from(r.goal));
    addLists.push([this.goalFact]);
    [this.preStart, this.pre] = rows(preLists);
    [this.addStart, this.add] = rows(addLists);
    [this.usersStart, this.users] = rows(invert(preLists, this.nFacts));
    [this.achieversStart, this.achievers] = rows(invert(addLists, this.nFacts));
    this.baseCost = new Float64Array(this.nOps);
    this.baseCost.set(r.cost);
    this.baseCost[goalOp] = 0;
    this.heap = explorationQueue(this.baseCost);
    this.cost = new Float64Array(this.nOps);
    this.hmaxFact = new Float64Array(this.nFacts);
    this.unsat = new Int32Array(this.nOps);
    this.supporter = new Int32Array(this.nOps);
    this.supporterCost = new Float64Array(this.nOps);
    this.supportedHead = new Int32Array(this.nFacts);
    this.supportedNext = new Int32Array(this.nOps);
    this.supportedPrev = new Int32Array(this.nOps);
    this.zone = new Uint8Array(this.nFacts);
    this.seen = new Uint8Array(this.nFacts);
  }

  /** h_max of `state`: the costliest goal fact when costs along a path are maximised. */
  hmax(state: Uint32Array): number {
    this.cost.set(this.baseCost);
    this.computeHmax(state);
    return this.hmaxFact[this.goalFact]!;
  }

  evaluate(state: Uint32Array): number {
    this.cost.set(this.baseCost);
    this.computeHmax(state);
    if (this.hmaxFact[this.goalFact] === INF) return INF;
    let h = 0;
    while (this.hmaxFact[this.goalFact]! > 0) {
      const cut = this.findCut();
      let min = INF;
      for (const o of cut) if (this.cost[o]! < min) min = this.cost[o]!;
      h += min;
      for (const o of cut) this.cost[o]! -= min;
      this.updateHmax(cut);
    }
    return h;
  }

  /** h_max over the current costs; records each operator's costliest precondition. */
  private computeHmax(state: Uint32Array): void {
    const { hmaxFact, unsat, supporter, heap, cost } = this;
    hmaxFact.fill(INF);
    heap.clear();
    for (let o = 0; o < this.nOps; o++) {
      unsat[o] = this.preStart[o + 1]! - this.preStart[o]!;
      supporter[o] = -1;
    }
    this.supportedHead.fill(-1);
    this.r.stateFacts(state, this.stateFacts).push(this.initFact);
    for (const f of this.stateFacts) {
      hmaxFact[f] = 0;
      heap.push(0, f);
    }
    while (heap.size > 0) {
      const key = heap.topKey();
      const f = heap.pop();
      if (key > hmaxFact[f]!) continue;
      for (let i = this.usersStart[f]!; i < this.usersStart[f + 1]!; i++) {
        const o = this.users[i]!;
        if (--unsat[o]! !== 0) continue;
        // The last precondition to be reached has the largest h_max: the supporter.
        this.setSupporter(o, f);
        this.supporterCost[o] = key;
        const c = key + cost[o]!;
        for (let j = this.addStart[o]!; j < this.addStart[o + 1]!; j++) {
          const g = this.add[j]!;
          if (c < hmaxFact[g]!) {
            hmaxFact[g] = c;
            heap.push(c, g);
          }
        }
      }
    }
  }

  /**
   * Makes `f` the supporter of `o`, keeping for each fact the list of operators it supports,
   * so the cut search visits only those.
   */
  private setSupporter(o: number, f: number): void {
    const old = this.supporter[o]!;
    if (old === f) return;
    if (old >= 0) {
      const prev = this.supportedPrev[o]!;
      const next = this.supportedNext[o]!;
      if (prev >= 0) this.supportedNext[prev] = next;
      else this.supportedHead[old] = next;
      if (next >= 0) this.supportedPrev[next] = prev;
    }
    this.supporter[o] = f;
    const head = this.supportedHead[f]!;
    this.supportedPrev[o] = -1;
    this.supportedNext[o] = head;
    if (head >= 0) this.supportedPrev[head] = o;
    this.supportedHead[f] = o;
  }

  /**
   * Among a zero-cost operator's equally costly preconditions, prefers as supporter one on the
   * border of the goal zone (no zero-cost achiever) or already in it: the zone stays small and
   * the cuts many (Fast Downward's goal-zone and border detection).
   */
  private breakTie(o: number): void {
    for (let j = this.preStart[o]!; j < this.preStart[o + 1]!; j++) {
      const p = this.pre[j]!;
      if (this.hmaxFact[p] !== this.supporterCost[o]) continue;
      if (this.zone[p] === 1 || !this.hasZeroCostAchiever(p)) {
        this.setSupporter(o, p);
        return;
      }
    }
  }

  private hasZeroCostAchiever(f: number): boolean {
    for (let i = this.achieversStart[f]!; i < this.achieversStart[f + 1]!; i++)
      if (this.cost[this.achievers[i]!] === 0) return true;
    return false;
  }

  /**
   * Brings h_max up to date after the cut's operators got cheaper (as Fast Downward does):
   * only what they reach can get cheaper, and a supporter changes only when another
   * precondition becomes strictly costlier than it.
   */
  private updateHmax(cut: number[]): void {
    const { hmaxFact, supporter, supporterCost, heap, cost } = this;
    heap.clear();
    for (const o of cut) this.lower(o, supporterCost[o]! + cost[o]!);
    while (heap.size > 0) {
      const key = heap.topKey();
      const f = heap.pop();
      if (key > hmaxFact[f]!) continue;
      for (let i = this.usersStart[f]!; i < this.usersStart[f + 1]!; i++) {
        const o = this.users[i]!;
        if (supporter[o] !== f || supporterCost[o]! <= key) continue;
        const old = supporterCost[o]!;
        let best = f;
        for (let j = this.preStart[o]!; j < this.preStart[o + 1]!; j++) {
          const p = this.pre[j]!;
          if (hmaxFact[p]! > hmaxFact[best]!) best = p;
        }
        this.setSupporter(o, best);
        supporterCost[o] = hmaxFact[best]!;
        if (supporterCost[o]! < old) this.lower(o, supporterCost[o]! + cost[o]!);
      }
    }
  }

  private lower(o: number, c: number): void {
    for (let j = this.addStart[o]!; j < this.addStart[o + 1]!; j++) {
      const g = this.add[j]!;
      if (c < this.hmaxFact[g]!) {
        this.hmaxFact[g] = c;
        this.heap.push(c, g);
      }
    }
  }

  /**
   * The goal zone is every fact from which the goal is reached by zero-cost operators in the
   * justification graph; the cut is the operators whose supporter is reachable from the state
   * without entering the zone and that add a fact in it.
   */
  private findCut(): number[] {
    const { zone, seen, stack, supporter, cost } = this;
    zone.fill(0);
    seen.fill(0);
    stack.length = 0;
    zone[this.goalFact] = 1;
    stack.push(this.goalFact);
    while (stack.length > 0) {
      const f = stack.pop()!;
      for (let i = this.achieversStart[f]!; i < this.achieversStart[f + 1]!; i++) {
        const o = this.achievers[i]!;
        if (cost[o] !== 0 || supporter[o]! < 0) continue;
        this.breakTie(o);
        const s = supporter[o]!;
        if (zone[s] === 0) {
          zone[s] = 1;
          stack.push(s);
        }
      }
    }
    const cut: number[] = [];
    for (const f of this.stateFacts) {
      seen[f] = 1;
      stack.push(f);
    }
    while (stack.length > 0) {
      const f = stack.pop()!;
      for (let o = this.supportedHead[f]!; o >= 0; o = this.supportedNext[o]!) {
        let crosses = false;
        for (let j = this.addStart[o]!; j < this.addStart[o + 1]!; j++)
          if (zone[this.add[j]!] === 1) {
            crosses = true;
            break;
          }
        if (crosses) {
          cut.push(o);
          continue;
        }
        for (let j = this.addStart[o]!; j < this.addStart[o + 1]!; j++) {
          const g = this.add[j]!;
          if (seen[g] === 0) {
            seen[g] = 1;
            stack.push(g);
          }
        }
      }
    }
    return cut;
  }
}

function rows(lists: number[][]): [Int32Array, Int32Array] {
  const start = new Int32Array(lists.length + 1);
  for (let i = 0; i < lists.length; i++) start[i + 1] = start[i]! + lists[i]!.length;
  return [start, Int32Array.from(lists.flat())];
}

function invert(lists: number[][], n: number): number[][] {
  const out: number[][] = Array.from({ length: n }, () => []);
  lists.forEach((l, i) => {
    for (const f of l) out[f]!.push(i);
  });
  return out;
}
