import { nowTs, uuidv7 } from "../../../contract";

/** An intent as central dispatches it to the `lab-notes` app of tenant `lab`. */
export function intentFor(prompt: string) {
  return {
    intent_id: uuidv7(),
    type: "task",
    params: { prompt },
    policy_ctx: { tenant: "lab", principal: "key-1", budget: {} },
    targets: [{ app: "lab-notes" }],
    created_at: nowTs(),
  };
}
