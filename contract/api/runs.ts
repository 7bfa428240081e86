import { z } from "zod";
import { Intent } from "../intent";
import { IntentStatus } from "../machines/intent";
import { RunStatus } from "../machines/run";
import { AgentId, AppName, IntentId, queryInt, RunId } from "../primitives";
import { RunState } from "../run-state";

/** Answer to `POST /v1/intents` (201 new, 200 when the idempotency key matched an earlier one). */
export const IntentAccepted = z
  .object({ intent: Intent, run: RunState, duplicate: z.boolean() })
  .meta({ id: "IntentAccepted" });
export type IntentAccepted = z.infer<typeof IntentAccepted>;

/** `GET /v1/runs`, newest first; pass `next` as `before` for the next page. */
export const RunList = z
  .object({ runs: z.array(RunState), next: z.string().nullable() })
  .meta({ id: "RunList" });
export type RunList = z.infer<typeof RunList>;

/**
 * `POST /v1/runs/{id}/fork` body: where in the run's session tree the new run starts, and
 * optionally what it is asked next (default: the original intent's prompt).
 */
export const ForkRequest = z
  .strictObject({
    entry_id: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe("an entry of the run's session tree (its events name them); default: the latest"),
    prompt: z
      .string()
      .min(1)
      .max(65_536)
      .optional()
      .describe("the fork's instruction; default: the original intent's prompt"),
  })
  .meta({ id: "ForkRequest" });

/** `POST /v1/runs/{id}/cancel` and `POST /v1/intents/{id}/cancel` body (may be empty). */
export const CancelRequest = z
  .strictObject({ reason: z.string().min(1).max(1024).optional() })
  .meta({ id: "CancelRequest" });
export type CancelRequest = z.infer<typeof CancelRequest>;

/** Query of `GET /v1/runs`. */
export const RunsQuery = z.strictObject({
  status: RunStatus.optional(),
  app: AppName.optional(),
  agent: AgentId.optional(),
  intent: IntentId.optional(),
  limit: queryInt(1, 500).default(50),
  /** The `next` of the previous page. */
  before: RunId.optional(),
});
export type RunsQuery = z.output<typeof RunsQuery>;

/** One intent as central holds it: the request, its status (intent machine) and its run. */
export const IntentInfo = z
  .object({
    intent: Intent,
    status: IntentStatus,
    principal: z.string().describe("the key id that submitted it"),
    run: RunState.nullable(),
  })
  .meta({ id: "IntentInfo" });
export type IntentInfo = z.infer<typeof IntentInfo>;

/** `GET /v1/intents`, newest first; pass `next` as `before` for the next page. */
export const IntentList = z
  .object({ intents: z.array(IntentInfo), next: z.string().nullable() })
  .meta({ id: "IntentList" });
export type IntentList = z.infer<typeof IntentList>;

/** Query of `GET /v1/intents`. */
export const IntentsQuery = z.strictObject({
  status: IntentStatus.optional(),
  limit: queryInt(1, 500).default(50),
  /** The `next` of the previous page. */
  before: IntentId.optional(),
});
export type IntentsQuery = z.output<typeof IntentsQuery>;
