import {
  type BudgetLimits,
  type ForkRef,
  type Intent,
  type JsonValue,
  redact,
  type Target,
  uuidv7,
} from "../../contract";
import { iso } from "../tenant/context";

/** What an intent is made from, whoever asks for it (a client, a fork, a plan's step). */
export interface IntentFields {
  type: string;
  params: Record<string, JsonValue>;
  targets: Target[];
  budget?: BudgetLimits | undefined;
  allowed_tools?: string[] | undefined;
  idempotency_key?: string | undefined;
  deadline?: string | undefined;
  fork_of?: ForkRef | undefined;
}

/** A new intent of `tenant`, submitted by `principal` now; central fills in what cannot be forged. */
export function newIntent(
  fields: IntentFields,
  tenant: string,
  principal: string,
  now: number,
): Intent {
  return {
    intent_id: uuidv7(),
    type: fields.type,
    // Stored, echoed and dispatched redacted: secrets reach a lab host through its own
    // environment, never through central's records.
    params: redact(fields.params),
    policy_ctx: {
      tenant,
      principal,
      budget: fields.budget ?? {},
      ...(fields.allowed_tools ? { allowed_tools: fields.allowed_tools } : {}),
    },
    targets: fields.targets,
    ...(fields.idempotency_key ? { idempotency_key: fields.idempotency_key } : {}),
    ...(fields.deadline ? { deadline: fields.deadline } : {}),
    ...(fields.fork_of ? { fork_of: fields.fork_of } : {}),
    created_at: iso(now),
  };
}
