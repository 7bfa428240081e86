import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syntheticEvents } from "../../../bench/memory-synthetic";
import {
  AgentEvent,
  CentralClient,
  GATEWAY_PROVIDER,
  HEADERS,
  IngestResult,
  IntentAccepted,
  PATHS,
  parse,
  RunState,
} from "../../../contract";
import { type Lake, resolveLakeLocation } from "../../../lakehouse";
import { type FakeUpstream, startFakeUpstream } from "../../central/gateway/fake-upstreams";
import {
  gatewayTenant,
  modelCalls,
  oneProviderConfig,
  startGatewayDev,
} from "../../central/gateway/gateway-dev";
import { type CentralDev, createKey, createTenant } from "../../helpers/central-dev";
import { runCli } from "../../helpers/cli";
import { ScriptedAgent } from "../../helpers/scripted-agent";
import { count, tableRows, tempDir, withLake } from "../fixture";

/**
 * Memory against the real central under `wrangler dev` (with its model gateway, calling a fake
 * provider on 127.0.0.1): agents post events and call the gateway, memory syncs, and memory's
 * runs say what central's do.
 */
let central: CentralDev;
let upstream: FakeUpstream;

beforeAll(async () => {
  [central, upstream] = await Promise.all([startGatewayDev(), startFakeUpstream("openai")]);
}, 180_000);
afterAll(async () => {
  await Promise.all([central?.stop(), upstream?.close()]);
});

/** `memory sync --from` central into a fresh state dir; returns where its lake is. */
async function syncFromCentral(admin: string, home = tempDir()) {
  const result = await runCli(["memory", "sync", "--from", central.url, "--key", admin, "--json"], {
    env: { AURAISON_HOME: home },
    timeoutMs: 120_000,
  });
  expect(result.code, result.stderr).toBe(0);
  return { report: JSON.parse(result.stdout), lake: resolveLakeLocation({}, `${home}/lake`, {}) };
}

/** Each run in the lake as central's `GET /v1/runs/{id}` has it: status, attempt and usage. */
async function expectRunsAsCentral(lake: Lake, admin: string) {
  const client = new CentralClient({ url: central.url, key: admin });
  const rows = await tableRows(lake, "runs");
  expect(rows.length).toBeGreaterThan(0);
  for (const row of rows) {
    const run = await client.request("GET", `${PATHS.runs}/${row.run_id}`, RunState);
    expect({
      run: row.run_id,
      status: row.status,
      attempt: row.attempts,
      usage: {
        tokens_in: row.tokens_in,
        tokens_out: row.tokens_out,
        cache_read_tokens: row.cache_read_tokens,
        cache_write_tokens: row.cache_write_tokens,
        cost_usd: row.cost_usd,
        model_calls: row.model_calls,
        tool_calls: row.tool_calls,
      },
    }).toEqual({ run: run.run_id, status: run.status, attempt: run.attempt, usage: run.usage });
  }
}

async function ingest(key: string, events: readonly object[]) {
  const response = await fetch(`${central.url}/v1/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ events }),
  });
  const text = await response.text();
  expect(response.status, text).toBeLessThan(300);
  return parse(IngestResult, JSON.parse(text), "IngestResult");
}

describe("memory sync --from a real central", () => {
  it("projects what agents posted to POST /v1/events, then only what is new", async () => {
    const tenant = "memory-e2e";
    const admin = await createTenant(central.url, central.bootstrapKey, tenant);
    const agentKey = await createKey(central.url, admin, "agent", "lab-hosts");
    // Agents post only their own (edge) events; central's come from central itself. A run the
    // log retries after a lost lease is left out: without central's dispatch of the second
    // attempt, central rightly refuses that attempt's events from another agent.
    const log = [
      ...syntheticEvents({
        events: 3_000,
        days: 1,
        seed: 77,
        tenant,
        start: new Date(Date.now() - 3_600_000).toISOString(),
      }),
    ]
      .filter((e) => e.source === "edge")
      .map(({ cursor: _c, ...e }) => e);
    const retried = new Set(log.filter((e) => (e.attempt ?? 1) > 1).map((e) => e.run_id));
    const events = log.filter((e) => !retried.has(e.run_id));
    const first = events.slice(0, 1_000);
    const rest = events.slice(1_000);
    for (let i = 0; i < first.length; i += 500) {
      const result = await ingest(agentKey, first.slice(i, i + 500));
      expect(result.rejected).toEqual([]);
    }

    const home = tempDir();
    const one = await syncFromCentral(admin, home);
    expect(one.report).toMatchObject({
      events: 1_000,
      quarantined: 0,
      origin: `central:${central.url}#${tenant}`,
    });

    for (let i = 0; i < rest.length; i += 500) {
      const result = await ingest(agentKey, rest.slice(i, i + 500));
      expect(result.rejected).toEqual([]);
    }
    const { report, lake } = await syncFromCentral(admin, home);
    expect(report).toMatchObject({ events: rest.length, duplicates: 0 });

    await withLake(
      lake,
      async (l) => {
        expect(await count(l, "SELECT count(*) FROM memory.events")).toBe(events.length);
        expect(await count(l, "SELECT count(DISTINCT cursor) FROM memory.events")).toBe(
          events.length,
        );
        const stored = new Map((await tableRows(l, "events")).map((r) => [r.event_id, r]));
        // Stored as the contract reads it: defaults filled in.
        for (const e of events.slice(0, 200))
          expect(JSON.parse(stored.get(e.event_id)!.payload as string)).toEqual(
            parse(AgentEvent, e, "event").payload,
          );
        const settled = await count(
          l,
          "SELECT count(*) FROM memory.runs WHERE status IN ('completed', 'failed') AND len(anomalies) = 0",
        );
        // Runs whose end the agents posted; how many depends on the hour the log starts at.
        const ended = new Set(
          events
            .filter((e) => e.kind === "run_completed" || e.kind === "run_failed")
            .map((e) => e.run_id),
        );
        expect(ended.size).toBeGreaterThan(0);
        expect(settled).toBe(ended.size);
        await expectRunsAsCentral(l, admin);
      },
      { readOnly: true },
    );
  }, 300_000);

  it("counts a call through the gateway once, with the gateway's price, as central does", async () => {
    const { tenant, admin } = await gatewayTenant(central, oneProviderConfig(upstream.url));
    const agentKey = await createKey(central.url, admin, "agent", "lab host", "lab-notes");
    const agent = await ScriptedAgent.connect(central.url, agentKey, tenant, "host-1.lab-notes");
    try {
      const client = new CentralClient({ url: central.url, key: admin });
      const accepted = await client.request("POST", PATHS.intents, IntentAccepted, {
        params: { prompt: "summarise the notes" },
        targets: [{ app: "lab-notes" }],
      });
      const dispatch = await agent.next("dispatch");
      const run = await agent.take(dispatch);
      const intent = dispatch.intent as { intent_id: string; type: string };
      await agent.emit([
        agent.event(
          "run_started",
          {
            intent_id: intent.intent_id,
            intent_type: intent.type,
            app: "lab-notes",
            attempt: run.attempt,
            model: `${GATEWAY_PROVIDER}/auto`,
            tree_ref: { session_file: "sessions/run.jsonl", entry_id: null },
            origin: "central",
          },
          run,
        ),
      ]);

      // The agent calls the gateway for its run; the gateway prices the call and logs it.
      upstream.script({ kind: "answer", text: "Three notes.", usage: { input: 900, output: 20 } });
      const answer = await fetch(`${central.url}${PATHS.chatCompletions}`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${agentKey}`,
          "content-type": "application/json",
          [HEADERS.run]: run.run_id,
          [HEADERS.agent]: "host-1.lab-notes",
        },
        body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "notes?" }] }),
      });
      expect(answer.status, await answer.clone().text()).toBe(200);
      await answer.text();
      const callId = answer.headers.get(HEADERS.callId)!;
      expect(callId).toBeTruthy();
      const call = {
        operation: "chat",
        response_id: null,
        finish_reasons: ["stop"],
        stream: false,
        input_tokens: 900,
        output_tokens: 20,
        latency_ms: 40,
        ttft_ms: null,
        observer: "edge",
      } as const;
      const acked = await agent.emit([
        // The edge's own observation of the same call: tokens, no price, the gateway's id.
        agent.event(
          "model_call",
          {
            ...call,
            call_id: "edge-1",
            provider: GATEWAY_PROVIDER,
            request_model: "auto",
            response_model: "qwen-notes",
            alias: null,
            cost_usd: null,
            gateway_call_id: callId,
          },
          run,
        ),
        // A call the edge made to a provider directly, priced by the edge.
        agent.event(
          "model_call",
          {
            ...call,
            call_id: "edge-2",
            provider: "anthropic",
            request_model: "claude-haiku-4-5",
            response_model: "claude-haiku-4-5",
            alias: null,
            input_tokens: 100,
            output_tokens: 10,
            cost_usd: 0.00015,
          },
          run,
        ),
        agent.event("tool_call_finished", toolCall("t1", "ok"), run),
        agent.event("tool_call_finished", toolCall("t2", "blocked"), run),
        agent.event(
          "run_completed",
          {
            result: "Three notes.",
            usage: {
              tokens_in: 1_000,
              tokens_out: 30,
              cache_read_tokens: 0,
              cache_write_tokens: 0,
              cost_usd: null,
              model_calls: 2,
              tool_calls: 2,
            },
            duration_ms: 50,
            tree_ref: { session_file: "sessions/run.jsonl", entry_id: "e1" },
          },
          run,
        ),
      ]);
      expect(acked).toMatchObject({ rejected: [] });
      // The gateway settles its call asynchronously: wait for its model_call in the log.
      const calls = await modelCalls(central, admin, 3);
      expect(calls.filter((c) => c.payload.observer === "gateway")).toMatchObject([
        { run_id: run.run_id, payload: { call_id: callId, cost_usd: 0.00094 } },
      ]);

      const state = await client.request("GET", `${PATHS.runs}/${accepted.run.run_id}`, RunState);
      expect(state).toMatchObject({
        status: "completed",
        attempt: 1,
        usage: {
          tokens_in: 1_000,
          tokens_out: 30,
          model_calls: 2,
          tool_calls: 1,
        },
      });
      // The gateway's price for the call (900 and 20 tokens at $1 and $2 per million), and the
      // edge's for its own.
      expect(state.usage.cost_usd).toBeCloseTo(0.00094 + 0.00015, 9);

      const { lake } = await syncFromCentral(admin);
      await withLake(
        lake,
        async (l) => {
          const [row] = await tableRows(l, "runs");
          expect(row).toMatchObject({ run_id: accepted.run.run_id, model_calls: 2 });
          await expectRunsAsCentral(l, admin);
        },
        { readOnly: true },
      );
    } finally {
      await agent.close();
    }
  }, 300_000);
});

function toolCall(id: string, status: "ok" | "blocked") {
  return {
    tool_call_id: id,
    tool: "bash",
    status,
    result: status === "ok" ? "3 notes" : null,
    error_message: status === "ok" ? null : "denied",
    error_type: status === "ok" ? null : "policy_denied",
    duration_ms: 3,
    blocked_by: status === "ok" ? null : "shell.deny",
  };
}
