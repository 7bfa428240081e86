import { expect } from "vitest";
import { Intent, type Plan, type PlanAccepted, type StoredEvent } from "../../../contract";
import {
  call,
  events,
  eventually,
  FAST,
  json,
  newKey,
  newTenant,
  putSettings,
  sleep,
  type TestAgent,
  usage,
} from "../support";

/** Plans retry their own steps: runs get one attempt each, so a step's retry is the plan's. */
export const PLAN_SETTINGS = { ...FAST, retry: { ...FAST.retry, max_attempts: 1 } };

export async function planTenant(prefix = "pl") {
  const { tenant, admin } = await newTenant(prefix);
  await putSettings(admin, PLAN_SETTINGS);
  const agentKey = (await newKey(admin, "agent")).key;
  return { tenant, admin, agentKey };
}

export async function submitPlan(admin: string, body: Record<string, unknown>, status = 201) {
  return json<PlanAccepted>(await call("POST", "/v1/plans", { key: admin, body }), status);
}

export async function getPlan(admin: string, planId: string): Promise<Plan> {
  return json<Plan>(await call("GET", `/v1/plans/${planId}`, { key: admin }), 200);
}

/** The plan once its planner answered (it plans in the background). */
export async function planned(admin: string, planId: string): Promise<Plan> {
  return eventually(
    async () => {
      const plan = await getPlan(admin, planId);
      return plan.status === "planning" || plan.status === "replanning" ? undefined : plan;
    },
    8_000,
    `plan ${planId} to be planned`,
  );
}

export const stepOf = (plan: Plan, id: string) => plan.steps.find((s) => s.id === id)!;

/** The agent's next dispatch, acked and claimed: the run, and the intent it carries. */
export async function takeNext(agent: TestAgent, timeoutMs = 5_000) {
  const dispatch = await agent.next("dispatch", () => true, timeoutMs);
  const run = await agent.take(dispatch);
  return { run, intent: Intent.parse(dispatch.intent) };
}

export async function complete(
  agent: TestAgent,
  run: { run_id: string; attempt: number },
  result: string,
  tokens = 0,
) {
  // A run's usage is what its model calls report (the edge observes each one).
  const calls = tokens
    ? [
        agent.event(
          "model_call",
          {
            call_id: crypto.randomUUID(),
            provider: "faux",
            request_model: "scripted/m",
            response_model: "scripted/m",
            alias: null,
            response_id: null,
            stream: false,
            input_tokens: tokens,
            output_tokens: 0,
            cost_usd: 0,
            latency_ms: 1,
            ttft_ms: null,
            observer: "edge",
          },
          run,
        ),
      ]
    : [];
  await agent.emit([
    ...calls,
    agent.event(
      "run_completed",
      { result, usage: usage(tokens, 0), duration_ms: 1, tree_ref: null },
      run,
    ),
  ]);
}

/** Asserts no dispatch reaches the agent within `ms` (without leaving a waiter behind). */
export async function noDispatch(agent: TestAgent, ms = 300) {
  await sleep(ms);
  expect(agent.received.filter((m) => m.type === "dispatch")).toEqual([]);
}

export async function fail(
  agent: TestAgent,
  run: { run_id: string; attempt: number },
  message: string,
) {
  await agent.emit([
    agent.event(
      "run_failed",
      {
        error: { category: "tool", reason: "tool_error", message },
        usage: usage(),
        duration_ms: 1,
        tree_ref: null,
      },
      run,
    ),
  ]);
}

/** The plan's events central wrote (source central), in order. */
export async function planEvents(admin: string, planId: string): Promise<StoredEvent[]> {
  const page = await events(admin);
  const mine = page.events.filter((e) => (e.payload as { plan_id?: string }).plan_id === planId);
  for (const e of mine) expect(e.source).toBe("central");
  return mine;
}
