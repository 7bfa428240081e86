/**
 * Dispatch latency: from `POST /v1/intents` to the edge agent's claim being confirmed, through
 * one tenant Durable Object in local workerd, one intent at a time: under `wrangler dev`, or
 * with `--direct` the deployable bundle in workerd without wrangler's dev proxy
 * (test/helpers/central-workerd.ts; results in central-dispatch-workerd.md).
 *
 *   npx tsx bench/central-dispatch.ts [--intents 300] [--direct]
 */
import { CONTRACT_VERSION, type EdgeMessage } from "../contract";
import { createKey, createTenant } from "../test/helpers/central-dev";
import { ScriptedAgent } from "../test/helpers/scripted-agent";
import { latencyRow, numberArg, writeResults } from "./central-report";
import { startBenchCentral } from "./central-workerd";

const intents = numberArg("intents", 300);
const warmup = Math.min(20, intents);

const central = await startBenchCentral();
const { direct, where } = central;
try {
  const admin = await createTenant(central.url, central.bootstrapKey, "bench");
  const agentKey = await createKey(central.url, admin, "agent", "bench");
  const agent = await ScriptedAgent.connect(central.url, agentKey, "bench", "bench-1");
  const toClaim: number[] = [];
  const toDispatch: number[] = [];
  const claimTrip: number[] = [];
  const postAnswer: number[] = [];
  for (let i = 0; i < warmup + intents; i++) {
    const t0 = performance.now();
    const dispatched = agent
      .next("dispatch", () => true, 30_000)
      .then((d) => ({ d, at: performance.now() }));
    const response = await fetch(`${central.url}/v1/intents`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({ params: { prompt: `job ${i}` }, targets: [{ app: "lab-notes" }] }),
    });
    const answered = performance.now();
    if (response.status !== 201) throw new Error(await response.text());
    await response.arrayBuffer();
    const { d, at } = await dispatched;
    agent.send({ type: "ack", run_id: d.run_id, attempt: d.attempt });
    agent.send({ type: "claim", run_id: d.run_id, attempt: d.attempt });
    await agent.next("claimed", (m) => m.run_id === d.run_id);
    const claimed = performance.now();
    if (i >= warmup) {
      toClaim.push(claimed - t0);
      toDispatch.push(at - t0);
      claimTrip.push(claimed - at);
      postAnswer.push(answered - t0);
    }
    const run = { run_id: d.run_id, attempt: d.attempt };
    await agent.emit([agent.completed(run)]);
  }
  const row = latencyRow;
  // Baselines of this environment, to see where the time goes.
  const probe = async (n: number, once: () => Promise<unknown>) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await once();
      out.push(performance.now() - t0);
    }
    return out;
  };
  const httpOnly = await probe(200, async () =>
    (await fetch(`${central.url}/openapi.json`)).arrayBuffer(),
  );
  const again: EdgeMessage = {
    type: "hello",
    registration: {
      agent_id: "bench-1",
      app: "lab-notes",
      skills: [],
      capabilities: [],
      harness: { name: "scripted", version: "1.0.0" },
      agent_version: "0.0.1",
      contract_version: CONTRACT_VERSION,
      max_concurrency: 1,
    },
    holding: [],
  };
  const wsNoWrite = await probe(200, () => {
    agent.send(again);
    return agent.next("error", (m) => m.code === "already_registered");
  });
  const probeRun = await fetch(`${central.url}/v1/intents`, {
    method: "POST",
    headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
    body: JSON.stringify({ params: { prompt: "probe" }, targets: [{ agent_id: "bench-1" }] }),
  });
  await probeRun.arrayBuffer();
  const claimedRun = await agent.take(await agent.next("dispatch"));
  const wsOneWrite = await probe(200, () => {
    agent.send({ type: "claim", ...claimedRun });
    return agent.next("claimed");
  });
  const table = [
    row("POST /v1/intents → claim confirmed (`claimed` at the edge)", toClaim),
    row("POST /v1/intents → `dispatch` at the edge", toDispatch),
    row("edge `ack`+`claim` → `claimed` (WebSocket round trip)", claimTrip),
    row("POST /v1/intents → HTTP 201 at the client", postAnswer),
  ].join("\n");
  const baselines = [
    row("HTTP request to the Worker alone (`GET /openapi.json`, no Durable Object)", httpOnly),
    row("WebSocket frame through the Durable Object and back, no storage write", wsNoWrite),
    row("WebSocket frame through the Durable Object and back, one row written", wsOneWrite),
  ].join("\n");
  const file = writeResults(
    direct ? "central-dispatch-workerd" : "central-dispatch",
    "Central: dispatch latency",
    `${intents} intents (after ${warmup} warm-up), one at a time, to one connected edge agent (a scripted \`ws\` client) of one tenant Durable Object ${where}. Each run is completed before the next intent, so every dispatch finds the agent free.

| Interval | p50 (ms) | p99 (ms) | max (ms) |
| --- | ---: | ---: | ---: |
${table}

Target for this version: dispatch p50 under 20 ms.

Where the time goes: the same environment's baselines, measured in the same run.

| Baseline | p50 (ms) | p99 (ms) | max (ms) |
| --- | ---: | ---: | ---: |
${baselines}

A dispatch is one HTTP request that commits the intent, the run and the \`run_dispatched\` event before the \`dispatch\` frame and the 201 leave (the Durable Object's output gate), then the ack and the claim, each a WebSocket round trip that commits a row or two before \`claimed\` leaves. ${direct ? "Here requests and frames reach the Worker directly, as in production" : "Under `wrangler dev` every request and frame also passes through wrangler's dev proxy (a second workerd process)"}; each local storage commit costs a few milliseconds, so those baselines, not the dispatch logic, make up most of the figure; on a loaded machine they grow.`,
  );
  console.log(`wrote ${file}`);
  await agent.close();
} finally {
  await central.stop();
}
