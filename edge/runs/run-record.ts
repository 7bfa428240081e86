import { z } from "zod";
import {
  Attempt,
  BudgetLimits,
  Intent,
  RunError,
  RunId,
  RunStatus,
  Timestamp,
  TreeRef,
  Usage,
} from "../../contract";

/**
 * What the edge keeps about one run on its own disk (`<state>/runs/<run_id>.json`): enough to
 * answer the local RPC, to resume the run after a restart and to fork from it. Events stay in
 * the outbox; the session tree stays in pi's session file.
 */
export const RunRecord = z.object({
  run_id: RunId,
  intent: Intent,
  attempt: Attempt,
  /** central: dispatched over the WebSocket; local: started here (RPC or `edge run`). */
  origin: z.enum(["central", "local"]),
  status: RunStatus,
  tree_ref: TreeRef,
  forked_from: z.object({ run_id: RunId, entry_id: z.string().nullable() }).nullable(),
  budget: BudgetLimits,
  model: z.string().nullable(),
  created_at: Timestamp,
  started_at: Timestamp.nullable(),
  finished_at: Timestamp.nullable(),
  result: z.string().nullable(),
  error: RunError.nullable(),
  usage: Usage,
  /**
   * When central's lease on this attempt runs out, as central last said (central runs only):
   * after a restart the agent stops the run at that time unless central renews it first.
   */
  lease_expires_at: Timestamp.nullable().default(null),
});
export type RunRecord = z.infer<typeof RunRecord>;
