import { bitsetOf, hasFact } from "./states";
import type { Operator, Task } from "./task";

const words = (task: Task) => Math.max(1, Math.ceil(task.facts.length / 32));

export function applicable(op: Operator, state: Uint32Array): boolean {
  for (const f of op.pre) if (!hasFact(state, f)) return false;
  for (const f of op.preNeg) if (hasFact(state, f)) return false;
  return true;
}

export function apply(op: Operator, state: Uint32Array): void {
  for (const f of op.del) state[f >>> 5]! &= ~(1 << (f & 31));
  for (const f of op.add) state[f >>> 5]! |= 1 << (f & 31);
}

export function satisfiesGoal(task: Task, state: Uint32Array): boolean {
  return task.goal.every((f) => hasFact(state, f)) && task.goalNeg.every((f) => !hasFact(state, f));
}

/**
 * Runs a sequence of operators from the initial state: the index of the first one that is not
 * applicable, or `goal: false` when all apply but the goal does not hold at the end.
 */
export function simulate(
  task: Task,
  ops: readonly number[],
): { ok: true } | { ok: false; failedAt?: number } {
  const state = bitsetOf(task.init, words(task));
  for (let i = 0; i < ops.length; i++) {
    const op = task.operators[ops[i]!]!;
    if (!applicable(op, state)) return { ok: false, failedAt: i };
    apply(op, state);
  }
  return satisfiesGoal(task, state) ? { ok: true } : { ok: false };
}

/**
 * Greedy action elimination (Nakhost & Müller 2010): try dropping each action together with
 * the later ones that then no longer apply; keep the shorter plan when it still reaches the
 * goal (costs are never negative, so it costs no more). Removes the detours a greedy search leaves; never makes a plan worse.
 */
export function eliminateActions(task: Task, plan: readonly number[]): number[] {
  let current = [...plan];
  const w = words(task);
  const prefix = bitsetOf(task.init, w);
  const state = new Uint32Array(w);
  for (let i = 0; i < current.length; ) {
    state.set(prefix);
    const kept: number[] = [];
    for (let k = i + 1; k < current.length; k++) {
      const op = task.operators[current[k]!]!;
      if (applicable(op, state)) {
        apply(op, state);
        kept.push(current[k]!);
      }
    }
    if (satisfiesGoal(task, state)) {
      current = [...current.slice(0, i), ...kept];
      continue;
    }
    apply(task.operators[current[i]!]!, prefix);
    i++;
  }
  return current;
}
