import { describe, expect, it } from "vitest";
import type { Intent, IntentAccepted } from "../../../contract";
import { call, connectAgent, json, newKey, newTenant } from "../support";

const TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

async function submitWith(admin: string, headers: Record<string, string>) {
  return json<IntentAccepted>(
    await call("POST", "/v1/intents", {
      key: admin,
      headers,
      body: { params: { prompt: "go" }, targets: [{ app: "lab-notes" }] },
    }),
    201,
  );
}

describe("an intent's W3C trace context", () => {
  it("is kept with the intent and dispatched with it to the agent", async () => {
    const { tenant, admin } = await newTenant("trace");
    const agent = await connectAgent((await newKey(admin, "agent")).key, tenant, "notes-1");
    const accepted = await submitWith(admin, {
      traceparent: TRACEPARENT,
      tracestate: "lab=a1 ,bad key=x",
    });
    expect(accepted.intent.trace).toEqual({ traceparent: TRACEPARENT, tracestate: "lab=a1" });
    const dispatch = await agent.next("dispatch");
    expect((dispatch.intent as Intent).trace).toEqual({
      traceparent: TRACEPARENT,
      tracestate: "lab=a1",
    });
    const shown = await json<{ intent: { trace?: unknown } }>(
      await call("GET", `/v1/intents/${accepted.intent.intent_id}`, { key: admin }),
      200,
    );
    expect(shown.intent.trace).toEqual({ traceparent: TRACEPARENT, tracestate: "lab=a1" });
    agent.close();
  });

  it("is ignored when malformed or absent (never an error)", async () => {
    const { admin } = await newTenant("trace");
    const cases: Record<string, string>[] = [{ traceparent: "00-not-a-trace" }, {}];
    for (const headers of cases) {
      const accepted = await submitWith(admin, headers);
      expect(accepted.intent.trace).toBeUndefined();
    }
  });
});
