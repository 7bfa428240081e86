import { FFHeuristic } from "../heuristics/ff";
import type { Budget } from "../limits";
import type { SuccessorGenerator } from "../successors";
import type { Task } from "../task";
import { PAUSE_EVERY, type SearchOutcome, SearchSpace } from "./space";

/** Open list by integer priority, first in first out within a priority. */
class BucketQueue {
  private readonly buckets: number[][] = [];
  private readonly heads: number[] = [];
  private min = Number.POSITIVE_INFINITY;
  size = 0;

  push(priority: number, a: number, b: number): void {
    while (this.buckets.length <= priority) {
      this.buckets.push([]);
      this.heads.push(0);
    }
    this.buckets[priority]!.push(a, b);
    if (priority < this.min) this.min = priority;
    this.size++;
  }

  /** Pops the oldest entry of the lowest priority into `out`. */
  pop(out: [number, number]): void {
    for (;;) {
      const bucket = this.buckets[this.min]!;
      const head = this.heads[this.min]!;
      if (head < bucket.length) {
        out[0] = bucket[head]!;
        out[1] = bucket[head + 1]!;
        this.heads[this.min] = head + 2;
        this.size--;
        if (head + 2 === bucket.length) {
          bucket.length = 0;
          this.heads[this.min] = 0;
        }
        return;
      }
      this.min++;
    }
  }
}

/** How much a preferred-operator queue is favoured after progress (Fast Downward's boost). */
const BOOST = 1000;

/**
 * Lazy greedy best-first search with the FF heuristic and preferred operators, as in the first
 * iteration of LAMA (minus landmarks): a successor is generated and evaluated only when taken
 * from the open list, under its parent's value; two open lists (all successors, and those by
 * preferred operators) alternate, and the preferred one is boosted whenever the heuristic
 * improves. Unit costs guide it (plans are short, not necessarily cheap); complete.
 */
export function* greedySearch(
  task: Task,
  successors: SuccessorGenerator,
  budget: Budget,
): Generator<void, SearchOutcome> {
  const space = new SearchSpace(task);
  const ff = new FFHeuristic(task, "unit");
  const init = space.initial();
  const { id: root } = space.intern(init, -1, -1);
  if (space.isGoal(init)) return { kind: "plan", ops: [] };
  const all = new BucketQueue();
  const preferred = new BucketQueue();
  const priority = [0, 0];
  const isPreferred = new Int32Array(task.operators.length);
  let stamp = 0;
  const applicable: number[] = [];
  const entry: [number, number] = [0, 0];
  const state = space.scratch;

  const expand = (id: number, s: Uint32Array, h: number) => {
    stamp++;
    for (const op of ff.preferred) isPreferred[op] = stamp;
    for (const op of successors.applicable(s, applicable)) {
      all.push(h, id, op);
      if (isPreferred[op] === stamp) preferred.push(h, id, op);
    }
  };

  let best = ff.evaluate(init);
  if (best === Number.POSITIVE_INFINITY) return { kind: "unsolvable" };
  expand(root, init, best);
  for (let n = 1; ; n++) {
    if (n % PAUSE_EVERY.greedy === 0) yield;
    let queue: BucketQueue;
    if (preferred.size > 0 && (all.size === 0 || priority[1]! <= priority[0]!)) {
      queue = preferred;
      priority[1]!++;
    } else if (all.size > 0) {
      queue = all;
      priority[0]!++;
    } else return { kind: "unsolvable" };
    queue.pop(entry);
    const [parent, op] = entry;
    space.successor(parent, op, state);
    const { id, fresh } = space.intern(state, parent, op);
    if (!fresh) continue;
    budget.expand(space.registry.size);
    if (space.isGoal(state)) return { kind: "plan", ops: space.path(id) };
    const h = ff.evaluate(state);
    if (h === Number.POSITIVE_INFINITY) continue;
    if (h < best) {
      best = h;
      priority[1]! -= BOOST;
    }
    expand(id, state, h);
  }
}
