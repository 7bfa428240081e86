import type { BudgetLimits, Role } from "../../../contract";
import { CENTRAL_AGENT_ID, HEADERS, isSettled } from "../../../contract";
import type { AgentStore } from "../../fleet/agent-store";
import type { RunTable } from "../../runs/run-table";
import type { AdmitRequest, Attribution } from "../admission";

export type Attributed =
  | { ok: true; attribution: Attribution; intentBudget: BudgetLimits | null }
  | { ok: false; status: 403 | 422; code: string; message: string };

const refuse = (status: 403 | 422, message: string): Attributed => ({
  ok: false,
  status,
  code: status === 422 ? "unprocessable" : "forbidden",
  message,
});

/**
 * Who a call is for. An agent key may attribute it to one of its tenant's edge agents (of the
 * key's app, if the key has one) and to a run that agent holds; the run then brings its intent
 * type and budget. Other keys call for themselves: run null, agent `central`.
 */
export function attribute(
  key: { id: string; role: Role; app: string | null },
  asked: AdmitRequest["attribution"],
  agents: AgentStore,
  runs: RunTable,
): Attributed {
  const base = { keyId: key.id, tags: asked.tags };
  /** A call made for the key itself, not for an edge run. */
  const ownCall = (app: string | null): Attributed => ({
    ok: true,
    intentBudget: null,
    attribution: {
      ...base,
      runId: null,
      agentId: CENTRAL_AGENT_ID,
      attempt: null,
      app,
      intentType: asked.intentType,
    },
  });
  if (key.role !== "agent") {
    if (asked.run !== null || asked.agent !== null)
      return refuse(
        403,
        `${HEADERS.run} and ${HEADERS.agent} attribute a call to an edge run; only agent keys may send them`,
      );
    return ownCall(asked.app);
  }
  if (asked.agent === null) {
    // Each header is valid on its own; together they break a rule no schema can state: 422.
    if (asked.run !== null) return refuse(422, `${HEADERS.run} needs ${HEADERS.agent}`);
    if (key.app !== null && asked.app !== null && asked.app !== key.app)
      return refuse(403, `this key is limited to app ${key.app}, not ${asked.app}`);
    return ownCall(key.app ?? asked.app);
  }
  const agent = agents.get(asked.agent);
  if (!agent) return refuse(403, `agent ${asked.agent} is not registered in this tenant`);
  if (key.app !== null && agent.app !== key.app)
    return refuse(
      403,
      `this key is limited to app ${key.app}; agent ${agent.agentId} serves ${agent.app}`,
    );
  if (asked.app !== null && asked.app !== agent.app)
    return refuse(
      403,
      `${HEADERS.app} says ${asked.app}, but agent ${agent.agentId} serves ${agent.app}`,
    );
  let attempt: number | null = null;
  let intentType = asked.intentType;
  let intentBudget: BudgetLimits | null = null;
  if (asked.run !== null) {
    const run = runs.get(asked.run);
    // A run central never dispatched (started on the edge host) is the agent's own to name.
    if (run) {
      // Only while the agent holds the run: after it ended or went back to the queue, a former
      // holder's calls would be charged to the run, its attempt and its intent's budget.
      const holds =
        run.owner === "central"
          ? run.hold?.agent_id === agent.agentId
          : run.agent_id === agent.agentId && !isSettled(run);
      if (!holds) return refuse(403, `run ${run.run_id} is not held by agent ${agent.agentId}`);
      attempt = run.attempt > 0 ? run.attempt : null;
      const intent = run.intent_id ? runs.intent(run.intent_id)?.intent : undefined;
      if (intent) {
        intentType = intent.type;
        intentBudget = intent.policy_ctx.budget;
      }
    }
  }
  return {
    ok: true,
    intentBudget,
    attribution: {
      ...base,
      runId: asked.run,
      agentId: agent.agentId,
      attempt,
      app: agent.app,
      intentType,
    },
  };
}
