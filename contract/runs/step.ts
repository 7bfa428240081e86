import type { StepContext } from "./context";
import type { Refusal, RunEffect, RunSettings } from "./effects";
import type { RunInput } from "./inputs";
import { isSettled, type RunLife } from "./life";
import { HELD } from "./moves";
import { Fold } from "./rulings";

export type { StepContext } from "./context";

export interface StepResult {
  life: RunLife;
  effects: RunEffect[];
  /** Set when the input was refused as a whole; `life` is then the input unchanged. */
  refusal: Refusal | null;
}

/**
 * A run's life, as one pure function: `(RunLife, input, context) -> (RunLife', effects)`. It is
 * the only place a run's status, attempts, hold and lease, retries, deadlines, cancellation,
 * usage and cost change: central carries out its effects, the edge and memory replay the log
 * through it (replay.ts). The machines in contract/machines/ say which moves are legal, each with
 * its reason; this says when each is made.
 */
export function stepRun(life: RunLife, input: RunInput, context: StepContext): StepResult {
  const fold = new Fold(structuredClone(life), context);
  fold.apply(input);
  if (fold.refusal) return { life, effects: [], refusal: fold.refusal };
  return { life: fold.life, effects: [...fold.effects, ...fold.holdChanges(life)], refusal: null };
}
/**
 * The earliest time the owner must look at the run again (its timer), or null. A backoff that
 * has already ended is not a timer: the run waits in the queue for an agent.
 */
export function nextDue(life: RunLife, settings: RunSettings, now: number): number | null {
  if (isSettled(life)) return null;
  const due: number[] = [];
  if (life.deadline !== null) due.push(life.deadline);
  const hold = life.hold;
  if (hold && HELD.includes(life.status)) {
    if (life.status === "dispatched" && !hold.acked && hold.ack_deadline !== null)
      due.push(hold.ack_deadline);
    if (hold.lease_expires_at !== null) due.push(hold.lease_expires_at);
  }
  if (life.status === "pending") {
    if (life.retry_at !== null && life.retry_at > now) due.push(life.retry_at);
    const timeout = settings.dispatch.queue_timeout_ms;
    if (timeout !== null && life.unserved_since !== null) due.push(life.unserved_since + timeout);
  }
  return due.length ? Math.min(...due) : null;
}
