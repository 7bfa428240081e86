import { hasFact } from "./states";
import type { Task } from "./task";

/** A node of the successor generator: operators decided here and tests on one fact each. */
interface Node {
  ops: number[];
  facts: number[];
  /** Per tested fact: the subtree when the fact is true, and when it is false. */
  ifTrue: (Node | null)[];
  ifFalse: (Node | null)[];
}

/**
 * Finds the applicable operators of a state without scanning every operator: a decision tree
 * over each operator's conditions in fact order (as Fast Downward's successor generator), so a
 * state visits only the branches its facts allow.
 */
export class SuccessorGenerator {
  private readonly root: Node | null;

  constructor(task: Task) {
    // Conditions encoded as 2f (f true) and 2f+1 (f false), sorted, so grouping by the next
    // condition's fact follows one global order.
    const conds = task.operators.map((op) =>
      [...op.pre.map((f) => 2 * f), ...op.preNeg.map((f) => 2 * f + 1)].sort((a, b) => a - b),
    );
    this.root = build(
      task.operators.map((_, i) => i),
      conds,
      0,
    );
  }

  applicable(state: Uint32Array, out: number[] = []): number[] {
    out.length = 0;
    if (!this.root) return out;
    const stack: Node[] = [this.root];
    while (stack.length > 0) {
      const node = stack.pop()!;
      for (const op of node.ops) out.push(op);
      for (let i = 0; i < node.facts.length; i++) {
        const child = hasFact(state, node.facts[i]!) ? node.ifTrue[i] : node.ifFalse[i];
        if (child) stack.push(child);
      }
    }
    return out;
  }
}

function build(ops: number[], conds: number[][], depth: number): Node | null {
  if (ops.length === 0) return null;
  const node: Node = { ops: [], facts: [], ifTrue: [], ifFalse: [] };
  const groups = new Map<number, { yes: number[]; no: number[] }>();
  for (const op of ops) {
    const c = conds[op]![depth];
    if (c === undefined) {
      node.ops.push(op);
      continue;
    }
    const fact = c >>> 1;
    const g = groups.get(fact) ?? { yes: [], no: [] };
    groups.set(fact, g);
    (c & 1 ? g.no : g.yes).push(op);
  }
  for (const [fact, g] of groups) {
    node.facts.push(fact);
    node.ifTrue.push(build(g.yes, conds, depth + 1));
    node.ifFalse.push(build(g.no, conds, depth + 1));
  }
  return node;
}
