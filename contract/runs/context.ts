import type { RunSettings } from "./effects";

/**
 * How a step is taken. The owner of a run (central, for the runs it queued) rules on it: it
 * dispatches, renews leases, retries and fails by the tenant's settings and emits what it decided
 * as events. A follower (memory replaying the log, the edge keeping its view, central watching a
 * run an edge owns) only folds the facts the log holds, so it reaches the same run the owner did.
 */
export type StepContext =
  | { role: "owner"; now: number; settings: RunSettings; newEventId: () => string }
  | { role: "follower" };

export type Owner = Extract<StepContext, { role: "owner" }>;
