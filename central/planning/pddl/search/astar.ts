import { MinHeap } from "../heuristics/heap";
import { LMCutHeuristic } from "../heuristics/lmcut";
import type { Budget } from "../limits";
import type { SuccessorGenerator } from "../successors";
import type { Task } from "../task";
import { PAUSE_EVERY, type SearchOutcome, SearchSpace } from "./space";

export type AdmissibleHeuristic = "lmcut" | "hmax" | "blind";

/**
 * A* with an admissible heuristic (LM-cut by default): optimal plans. Ties on f go to the
 * lower h (deeper states first). LM-cut is admissible but not consistent, so a state reached
 * again more cheaply after expansion is reopened.
 */
export function* astarSearch(
  task: Task,
  successors: SuccessorGenerator,
  budget: Budget,
  heuristic: AdmissibleHeuristic = "lmcut",
): Generator<void, SearchOutcome> {
  const space = new SearchSpace(task);
  const lmcut = heuristic === "blind" ? undefined : new LMCutHeuristic(task);
  const evaluate = (s: Uint32Array) =>
    lmcut === undefined
      ? space.isGoal(s)
        ? 0
        : minCost
      : heuristic === "hmax"
        ? lmcut.hmax(s)
        : lmcut.evaluate(s);
  const minCost = task.operators.reduce((m, o) => Math.min(m, o.cost), Number.POSITIVE_INFINITY);
  let g = new Float64Array(1024);
  let h = new Float64Array(1024);
  let closed = new Uint8Array(1024);
  const open = new MinHeap();
  const applicable: number[] = [];
  const state = new Uint32Array(space.registry.words);
  const child = space.scratch;
  const grow = (id: number) => {
    if (id < g.length) return;
    const n = g.length * 2;
    const g2 = new Float64Array(n);
    g2.set(g);
    g = g2;
    const h2 = new Float64Array(n);
    h2.set(h);
    h = h2;
    const c2 = new Uint8Array(n);
    c2.set(closed);
    closed = c2;
  };

  const init = space.initial();
  const { id: root } = space.intern(init, -1, -1);
  grow(root);
  h[root] = evaluate(init);
  if (h[root] === Number.POSITIVE_INFINITY) return { kind: "unsolvable" };
  g[root] = 0;
  open.push(h[root]!, root, h[root]!);
  for (let n = 1; open.size > 0; n++) {
    if (n % PAUSE_EVERY.astar === 0) yield;
    const f = open.topKey();
    const id = open.pop();
    if (closed[id] === 1 || f > g[id]! + h[id]!) continue;
    closed[id] = 1;
    space.registry.read(id, state);
    if (space.isGoal(state)) return { kind: "plan", ops: space.path(id) };
    budget.expand(space.registry.size);
    for (const op of successors.applicable(state, applicable)) {
      space.successor(id, op, child);
      const cost = g[id]! + task.operators[op]!.cost;
      const r = space.intern(child, id, op);
      grow(r.id);
      if (r.fresh) {
        h[r.id] = evaluate(child);
        if (h[r.id] === Number.POSITIVE_INFINITY) {
          closed[r.id] = 1;
          continue;
        }
      } else {
        if (h[r.id] === Number.POSITIVE_INFINITY || cost >= g[r.id]!) continue;
        space.parent[r.id] = id;
        space.via[r.id] = op;
        closed[r.id] = 0;
      }
      g[r.id] = cost;
      open.push(cost + h[r.id]!, r.id, h[r.id]!);
    }
  }
  return { kind: "unsolvable" };
}
