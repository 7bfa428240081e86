import { append } from "./multimap";
import type { Task } from "./task";

/** A plan's partial order: edges [i, j] (i < j, transitively reduced) and parallel layers. */
export interface PartialOrder {
  order: [number, number][];
  /** Plan step indices by earliest layer: each layer's steps may run at the same time. */
  layers: number[][];
}

/**
 * Deorders a valid sequential plan by its causal links and their threats (Kambhampati & Kedar
 * 1994): each condition of a step (or of the goal) is supported by the last earlier step that
 * established it (or by the initial state); that step comes first, and every step that
 * undoes the condition comes before the supporter or after the consumer. Conditions hold along
 * every linearisation, so every linearisation of the result is a valid plan; steps with no
 * path between them can run in parallel.
 */
export function deorder(task: Task, plan: readonly number[]): PartialOrder {
  const n = plan.length;
  const ops = plan.map((o) => task.operators[o]!);
  const adders = new Map<number, number[]>();
  const deleters = new Map<number, number[]>();
  ops.forEach((o, i) => {
    for (const f of o.add) append(adders, f, i);
    for (const f of o.del) append(deleters, f, i);
  });
  const preds: Set<number>[] = Array.from({ length: n }, () => new Set());
  const edge = (i: number, j: number) => {
    if (i >= 0 && i !== j) preds[j]!.add(i);
  };
  /** Protects "f is true (or false) from its last establisher before `consumer` until it". */
  const link = (consumer: number, establishers: number[], threats: number[]) => {
    let supporter = -1;
    for (const i of establishers) if (i < consumer && i > supporter) supporter = i;
    if (consumer < n) edge(supporter, consumer);
    for (const k of threats) {
      if (k === consumer) continue;
      if (k < supporter) edge(k, supporter);
      else if (k > consumer && consumer < n) edge(consumer, k);
    }
  };
  const none: number[] = [];
  for (let j = 0; j <= n; j++) {
    const pre = j < n ? ops[j]!.pre : task.goal;
    const preNeg = j < n ? ops[j]!.preNeg : task.goalNeg;
    for (const f of pre) link(j, adders.get(f) ?? none, deleters.get(f) ?? none);
    for (const f of preNeg) link(j, deleters.get(f) ?? none, adders.get(f) ?? none);
  }
  return reduce(preds);
}

/** Drops edges implied by others and layers the steps by their longest chain of predecessors. */
function reduce(preds: Set<number>[]): PartialOrder {
  const n = preds.length;
  const words = Math.ceil(n / 32) || 1;
  const ancestors = new Uint32Array(n * words);
  const order: [number, number][] = [];
  const level = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const direct = [...preds[j]!].sort((a, b) => b - a);
    const row = j * words;
    for (const i of direct) {
      // Visited latest first: an edge from i is implied if i is already an ancestor.
      if (((ancestors[row + (i >>> 5)]! >>> (i & 31)) & 1) === 0) order.push([i, j]);
      ancestors[row + (i >>> 5)]! |= 1 << (i & 31);
      for (let w = 0; w < words; w++) ancestors[row + w]! |= ancestors[i * words + w]!;
      level[j] = Math.max(level[j]!, level[i]! + 1);
    }
  }
  const layers: number[][] = [];
  for (let j = 0; j < n; j++) {
    const l = level[j]!;
    if (layers[l]) layers[l].push(j);
    else layers[l] = [j];
  }
  order.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return { order, layers };
}
