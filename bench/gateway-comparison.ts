/**
 * The model gateway side by side with the gateways users would pick instead, in one run, with
 * one load generator, against one mock provider (OpenAI-style, fixed token timing): Auraison's
 * gateway (central in local workerd: under `wrangler dev`, under Miniflare without the dev
 * proxy, and in workerd alone), Portkey's open-source gateway (Node) and the LiteLLM proxy
 * (Python), plus the mock called directly as the baseline, and each runtime's floor (a server
 * that only forwards, in workerd and in Node: bench/gateway-floors.ts). Measures the latency
 * each adds to non-streamed calls at concurrency 1 and 32, the time to first token it adds to
 * streamed calls, and requests/s at saturation.
 *
 *   bash bench/gateway-setup.sh       # once: installs the peers into bench/.peers/
 *   npx tsx bench/gateway-comparison.ts [--requests 300] [--c32-requests 2000] [--stream-requests 200] [--saturation-s 10] [--rounds 5]
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Agent, request } from "undici";
import { spawnManaged, waitHealthy } from "../cli/local-stack/processes";
import { createKey, freePort, gatewayTenant, startCentralDev } from "../test/helpers/central-dev";
import { startCentralWorkerd } from "../test/helpers/central-workerd";
import { platformSecrets } from "../test/helpers/platform-secrets";
import { numberArg, writeResults } from "./central-report";
import { startNodeForwarder, startWorkerdForwarder } from "./gateway-floors";
import { startMockUpstream } from "./gateway-mock-upstream";
import { childWorkerdPids, cpuMs } from "./process-cpu";
import { fmt, percentile } from "./stats";
import { startCentralAlone } from "./workerd-alone";

const PEERS = fileURLToPath(new URL("./.peers/", import.meta.url));
const PORTKEY = join(PEERS, "portkey", "node_modules", "@portkey-ai", "gateway");
const LITELLM = join(PEERS, "litellm", "bin", "litellm");
if (!existsSync(PORTKEY) || !existsSync(LITELLM)) {
  console.error("the peer gateways are not installed: run `bash bench/gateway-setup.sh` first");
  process.exit(2);
}

const REQUESTS = numberArg("requests", 300);
const C32_REQUESTS = numberArg("c32-requests", 2_000);
const STREAM_REQUESTS = numberArg("stream-requests", 200);
const SATURATION_S = numberArg("saturation-s", 10);
/** The measurements are split into rounds that take the targets in turn, so a burst of load from
 * elsewhere on the machine falls on all of them alike. */
const ROUNDS = numberArg("rounds", 5);
const SATURATION_CONCURRENCY = 64;
const TIMING = { firstTokenMs: 20, tokenMs: 2, tokens: 20 };
const MODEL = "mock-model";

interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  /** Samples of the gateway's own added time, when it reports one. */
  selfReported?: number[];
  /** How Auraison admitted the calls (`x-auraison-admission`: lease or tenant), counted. */
  admissions?: Map<string, number>;
  /** A body to send instead of the default one. */
  body?: Record<string, unknown>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// Interrupted, the run still ends through "exit", whose handlers stop what it started.
process.once("SIGINT", () => process.exit(130));
process.once("SIGTERM", () => process.exit(143));
const agents = new Map<string, Agent>();
function agentFor(target: Target, concurrency: number): Agent {
  const key = `${target.name}/${concurrency}`;
  let agent = agents.get(key);
  if (!agent) {
    agent = new Agent({
      connections: concurrency,
      keepAliveTimeout: 60_000,
      keepAliveMaxTimeout: 60_000,
    });
    agents.set(key, agent);
  }
  return agent;
}

/** One call: total time (non-streamed) or time to the first content token (streamed), in ms. */
async function call(target: Target, stream: boolean, agent: Agent): Promise<number> {
  const started = performance.now();
  const response = await request(`${target.url}/v1/chat/completions`, {
    method: "POST",
    dispatcher: agent,
    headers: { "content-type": "application/json", ...target.headers },
    body: JSON.stringify({
      model: MODEL,
      stream,
      max_tokens: 64,
      messages: [
        { role: "system", content: "You are a benchmark." },
        { role: "user", content: "Say twenty tokens." },
      ],
      ...target.body,
    }),
  });
  if (response.statusCode !== 200)
    throw new Error(`${target.name}: HTTP ${response.statusCode}: ${await response.body.text()}`);
  const own = response.headers["x-auraison-gateway-ms"];
  if (typeof own === "string") target.selfReported?.push(Number(own));
  const admission = response.headers["x-auraison-admission"];
  if (typeof admission === "string" && target.admissions)
    target.admissions.set(admission, (target.admissions.get(admission) ?? 0) + 1);
  if (!stream) {
    const text = await response.body.text();
    if (!text.includes("tok"))
      throw new Error(`${target.name}: unexpected answer ${text.slice(0, 200)}`);
    return performance.now() - started;
  }
  let seen = "";
  let first: number | null = null;
  for await (const chunk of response.body) {
    if (first === null) {
      seen += chunk.toString();
      if (/"content":"\s?tok/.test(seen)) first = performance.now() - started;
    }
  }
  if (first === null)
    throw new Error(`${target.name}: no token in the stream: ${seen.slice(0, 300)}`);
  return first;
}

async function measure(
  target: Target,
  n: number,
  concurrency: number,
  stream: boolean,
): Promise<number[]> {
  const agent = agentFor(target, concurrency);
  const warm = Math.max(concurrency, Math.min(50, Math.ceil(n / 10)));
  const run = async (count: number, out: number[] | null) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) {
          next += 1;
          const ms = await call(target, stream, agent);
          out?.push(ms);
        }
      }),
    );
  };
  await run(warm, null);
  if (target.selfReported) target.selfReported.length = 0;
  const samples: number[] = [];
  await run(n, samples);
  return samples.sort((a, b) => a - b);
}

async function saturation(
  target: Target,
  seconds: number,
): Promise<{ done: number; seconds: number; errors: number }> {
  const agent = agentFor(target, SATURATION_CONCURRENCY);
  await measure(target, SATURATION_CONCURRENCY * 2, SATURATION_CONCURRENCY, false);
  const until = performance.now() + seconds * 1000;
  const started = performance.now();
  let done = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: SATURATION_CONCURRENCY }, async () => {
      while (performance.now() < until) {
        try {
          await call(target, false, agent);
          done += 1;
        } catch {
          errors += 1;
        }
      }
    }),
  );
  return { done, seconds: (performance.now() - started) / 1000, errors };
}

const versionOf = (file: string) =>
  (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
const litellmVersion = spawnSync(
  join(PEERS, "litellm", "bin", "python"),
  ["-c", "import importlib.metadata as m; print(m.version('litellm'))"],
  {
    encoding: "utf8",
  },
).stdout.trim();

// --- the targets ---------------------------------------------------------------------------
const mock = await startMockUpstream(TIMING);
console.log(
  `mock provider at ${mock.url} (first token ${TIMING.firstTokenMs} ms, then ${TIMING.tokens - 1} more every ${TIMING.tokenMs} ms)`,
);

/** A tenant with one provider, the mock; returns an operator key. */
async function benchTenant(
  url: string,
  bootstrapKey: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const { admin } = await gatewayTenant(
    { url, bootstrapKey },
    {
      providers: [
        { id: "mock", kind: "openai-compatible", base_url: `${mock.url}/v1`, models: [MODEL] },
      ],
      ...extra,
    },
  );
  return createKey(url, admin, "operator", "bench");
}
// The mock provider lives on 127.0.0.1, which only a local or lab platform may call.
const PRIVATE_UPSTREAMS = { AURAISON_PRIVATE_UPSTREAMS: "allow" };
const central = await startCentralDev({ logLevel: "warn", vars: PRIVATE_UPSTREAMS });
const operator = await benchTenant(central.url, central.bootstrapKey);
const workerdSecrets = platformSecrets();
const workerd = await startCentralWorkerd({ ...workerdSecrets, ...PRIVATE_UPSTREAMS });
// Miniflare's workerd, the only one this process has started so far (wrangler dev's is
// wrangler's child): the CPU of central's Worker and tenant object under Miniflare.
const workerdPids = childWorkerdPids();
const workerdOperator = await benchTenant(workerd.url, workerdSecrets.AURAISON_BOOTSTRAP_KEY);
// For "where the time goes": a tenant whose response cache is on, asked deterministic calls
// that skip the lookup, so each one is admitted by the tenant object (no lease applies).
const objectPathOperator = await benchTenant(workerd.url, workerdSecrets.AURAISON_BOOTSTRAP_KEY, {
  cache: { enabled: true },
});
const alone = await startCentralAlone({ ...workerdSecrets, ...PRIVATE_UPSTREAMS });
const aloneOperator = await benchTenant(alone.url, workerdSecrets.AURAISON_BOOTSTRAP_KEY);

const portkeyPort = await freePort();
const portkey = spawnManaged(
  "Portkey gateway",
  process.execPath,
  [
    "--import",
    fileURLToPath(new URL("./gateway-portkey-shim.mjs", import.meta.url)),
    join(PORTKEY, "build", "start-server.js"),
    `--port=${portkeyPort}`,
    "--headless",
  ],
  { env: { ...process.env, NODE_ENV: "production" } },
);
await waitHealthy(`http://127.0.0.1:${portkeyPort}/`, portkey, 120_000);

const litellmPort = await freePort();
const litellmDir = mkdtempSync(join(tmpdir(), "auraison-bench-litellm-"));
process.once("exit", () => rmSync(litellmDir, { recursive: true, force: true }));
const litellmConfig = join(litellmDir, "config.yaml");
writeFileSync(
  litellmConfig,
  `model_list:\n  - model_name: ${MODEL}\n    litellm_params:\n      model: openai/${MODEL}\n      api_base: ${mock.url}/v1\n      api_key: sk-mock\nlitellm_settings:\n  telemetry: false\n`,
);
// Like Auraison's, LiteLLM's proxy checks a key on every call.
const litellmKey = `sk-${randomBytes(32).toString("hex")}`;
const litellm = spawnManaged(
  "LiteLLM proxy",
  LITELLM,
  ["--config", litellmConfig, "--host", "127.0.0.1", "--port", String(litellmPort)],
  {
    // The master key goes in the environment, never on a command line.
    env: {
      ...process.env,
      LITELLM_MASTER_KEY: litellmKey,
      LITELLM_LOCAL_MODEL_COST_MAP: "True",
      LITELLM_LOG: "ERROR",
      LITELLM_TELEMETRY: "False",
    },
  },
);
await waitHealthy(`http://127.0.0.1:${litellmPort}/health/liveliness`, litellm, 120_000);

const workerdFloor = await startWorkerdForwarder(mock.url);
const nodeFloor = await startNodeForwarder(mock.url);

/** A target that takes the mock's own key: the mock itself, or a floor in front of it. */
const mockKeyed = (name: string, url: string): Target => ({
  name,
  url,
  headers: { authorization: "Bearer sk-mock" },
});
const direct = mockKeyed("mock, direct", mock.url);
const auraison: Target = {
  name: "Auraison gateway",
  url: central.url,
  headers: { authorization: `Bearer ${operator}` },
  selfReported: [],
  admissions: new Map(),
};
const auraisonWorkerd: Target = {
  name: "Auraison gateway, workerd without wrangler's dev proxy",
  url: workerd.url,
  headers: { authorization: `Bearer ${workerdOperator}` },
  selfReported: [],
  admissions: new Map(),
};
const auraisonAlone: Target = {
  name: "Auraison gateway, central's bundle in workerd alone (no Miniflare)",
  url: alone.url,
  headers: { authorization: `Bearer ${aloneOperator}` },
  admissions: new Map(),
};
const portkeyTarget: Target = {
  name: "Portkey gateway",
  url: `http://127.0.0.1:${portkeyPort}`,
  headers: {
    authorization: "Bearer sk-mock",
    "x-portkey-provider": "openai",
    "x-portkey-custom-host": `${mock.url}/v1`,
  },
};
const litellmTarget: Target = {
  name: "LiteLLM proxy",
  url: `http://127.0.0.1:${litellmPort}`,
  headers: { authorization: `Bearer ${litellmKey}` },
};
const workerdFloorT = mockKeyed(
  "floor: a Worker that only forwards, in workerd alone",
  workerdFloor.url,
);
const nodeFloorT = mockKeyed("floor: a Node server that only forwards", nodeFloor.url);
const targets = [
  direct,
  auraison,
  auraisonWorkerd,
  auraisonAlone,
  portkeyTarget,
  litellmTarget,
  workerdFloorT,
  nodeFloorT,
];

// --- measurements --------------------------------------------------------------------------
interface Row {
  c1: number[];
  c32: number[];
  ttft: number[];
  done: number;
  seconds: number;
  rps: number;
  errors: number;
  own: number[];
}
const rows = new Map<Target, Row>(
  targets.map((t) => [
    t,
    { c1: [], c32: [], ttft: [], done: 0, seconds: 0, rps: 0, errors: 0, own: [] },
  ]),
);
const share = (n: number) => Math.ceil(n / ROUNDS);
for (let round = 1; round <= ROUNDS; round++) {
  for (const target of targets) {
    const row = rows.get(target)!;
    console.log(`round ${round}/${ROUNDS}: ${target.name} ...`);
    row.c1.push(...(await measure(target, share(REQUESTS), 1, false)));
    row.own.push(...(target.selfReported ?? []));
    row.c32.push(...(await measure(target, share(C32_REQUESTS), 32, false)));
    row.ttft.push(...(await measure(target, share(STREAM_REQUESTS), 1, true)));
    const saturated = await saturation(target, SATURATION_S / ROUNDS);
    row.done += saturated.done;
    row.seconds += saturated.seconds;
    row.errors += saturated.errors;
  }
}
for (const row of rows.values()) {
  for (const samples of [row.c1, row.c32, row.ttft, row.own]) samples.sort((a, b) => a - b);
  row.rps = row.done / row.seconds;
}

// Where Auraison's time goes, in workerd without the dev proxy: the Worker alone, the Worker
// with one RPC to the tenant object, and a model call admitted under a lease against one
// admitted by the object, each taken in turn with the mock called directly.
const probe = async (path: string, headers: Record<string, string>) => {
  const agent = agentFor({ name: `probe${path}`, url: workerd.url, headers }, 1);
  const out: number[] = [];
  for (let i = 0; i < REQUESTS + 20; i++) {
    const t0 = performance.now();
    const r = await request(`${workerd.url}${path}`, { dispatcher: agent, headers });
    await r.body.text();
    if (i >= 20) out.push(performance.now() - t0);
  }
  return out.sort((a, b) => a - b);
};
const workerOnly = await probe("/no-such-route", {});
const workerAndObject = await probe("/v1/models", { authorization: `Bearer ${workerdOperator}` });
const leasePath: Target = { ...auraisonWorkerd, name: "lease path", admissions: new Map() };
const objectPath: Target = {
  name: "object path",
  url: workerd.url,
  headers: { authorization: `Bearer ${objectPathOperator}`, "x-auraison-cache": "no-cache" },
  body: { temperature: 0 },
  admissions: new Map(),
};
const split = { direct: [] as number[], lease: [] as number[], object: [] as number[] };
for (let i = 0; i < REQUESTS + 20; i++) {
  const d0 = await call(direct, false, agentFor(direct, 1));
  const l0 = await call(leasePath, false, agentFor(leasePath, 1));
  const o0 = await call(objectPath, false, agentFor(objectPath, 1));
  if (i < 20) continue;
  split.direct.push(d0);
  split.lease.push(l0);
  split.object.push(o0);
}
for (const xs of Object.values(split)) xs.sort((a, b) => a - b);

const CPU_CALLS = Math.max(100, REQUESTS);
async function cpuPerCall(pids: number[], one: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 20; i++) await one();
  await sleep(500);
  const before = cpuMs(pids);
  for (let i = 0; i < CPU_CALLS; i++) await one();
  // Settlements run after the answers: wait for them to be charged too.
  await sleep(1_000);
  return (cpuMs(pids) - before) / CPU_CALLS;
}
const get = (url: string, path: string, headers: Record<string, string>) => async () => {
  const r = await request(`${url}${path}`, { dispatcher: agentFor(direct, 1), headers });
  await r.body.text();
};
/** One non-streamed call at concurrency 1, as `cpuPerCall` repeats it. */
const oneCall = (t: Target) => () => call(t, false, agentFor(t, 1));
const cpu = {
  workerOnly: await cpuPerCall(workerdPids, get(workerd.url, "/no-such-route", {})),
  withRpc: await cpuPerCall(
    workerdPids,
    get(workerd.url, "/v1/models", { authorization: `Bearer ${workerdOperator}` }),
  ),
  lease: await cpuPerCall(workerdPids, oneCall(leasePath)),
  object: await cpuPerCall(workerdPids, oneCall(objectPath)),
  portkey: await cpuPerCall([portkey.child.pid!], oneCall(portkeyTarget)),
  alone: await cpuPerCall([alone.pid], oneCall(auraisonAlone)),
  workerdFloor: await cpuPerCall([workerdFloor.pid], oneCall(workerdFloorT)),
  nodeFloor: await cpuPerCall([nodeFloor.pid], oneCall(nodeFloorT)),
};

// --- report --------------------------------------------------------------------------------
const p = (xs: number[], q: number) => percentile(xs, q);
const added = (xs: number[], base: number[], q: number) => p(xs, q) - p(base, q);
const signed = (ms: number) => `${ms < 0 ? "-" : "+"}${fmt(Math.abs(ms), 2)}`;
const d = rows.get(direct)!;
const lines = targets.map((t) => {
  const r = rows.get(t)!;
  const isDirect = t === direct;
  const cell = (xs: number[], base: number[], q: number) =>
    isDirect ? fmt(p(xs, q), 2) : `${fmt(p(xs, q), 2)} (${signed(added(xs, base, q))})`;
  return `| ${t.name} | ${cell(r.c1, d.c1, 50)} | ${cell(r.c1, d.c1, 99)} | ${cell(r.c32, d.c32, 50)} | ${cell(r.c32, d.c32, 99)} | ${cell(r.ttft, d.ttft, 50)} | ${cell(r.ttft, d.ttft, 99)} | ${fmt(r.rps, 0)}${r.errors ? ` (${r.errors} errors)` : ""} |`;
});
for (const line of lines) console.log(line);
const w = rows.get(auraisonWorkerd)!;
const admitted = (t: Target) =>
  [...(t.admissions ?? new Map<string, number>()).entries()]
    .sort()
    .map(([how, n]) => `${n} by ${how}`)
    .join(", ") || "none counted";
const peers = [portkeyTarget, litellmTarget];
// Medians of a few hundred calls on this shared machine moved by 0.2-0.3 ms between five runs on
// 2026-12-06 (bench/results/gateway-comparison.md): a lead smaller than this wider margin is a
// tie, not a win.
const NOISE_MS = 0.5;
const bestPeer = (of: (r: Row) => number, lowest: boolean) =>
  peers
    .map((t) => ({ name: t.name, value: of(rows.get(t)!) }))
    .sort((x, y) => (lowest ? x.value - y.value : y.value - x.value))[0]!;
const c1 = (r: Row) => added(r.c1, d.c1, 50);
const c32 = (r: Row) => added(r.c32, d.c32, 50);
// A lead or a lag smaller than the noise is a tie either way; "met" takes a lead beyond it.
const judge = (ours: number, best: number, lowerWins: boolean, noise: number, unit: string) => {
  const lead = lowerWins ? best - ours : ours - best;
  const by = unit === "ms" ? `${fmt(Math.abs(lead), 2)} ms` : `${fmt(Math.abs(lead), 0)} ${unit}`;
  return Math.abs(lead) < noise
    ? `a tie: ${lead >= 0 ? "ahead" : "behind"} by ${by}, within noise`
    : lead > 0
      ? "met"
      : "not met";
};
const verdictOf = (t: Target) => {
  const r = rows.get(t)!;
  const bc1 = bestPeer(c1, true);
  const bc32 = bestPeer(c32, true);
  const brps = bestPeer((x) => x.rps, false);
  return `${t.name}: added p50 at concurrency 1 ${fmt(c1(r), 2)} ms against ${bc1.name}'s ${fmt(bc1.value, 2)} ms (${judge(c1(r), bc1.value, true, NOISE_MS, "ms")}; under 1 ms: ${c1(r) < 1 ? "met" : "not met"}), at concurrency 32 ${fmt(c32(r), 2)} ms against ${fmt(bc32.value, 2)} ms (${judge(c32(r), bc32.value, true, NOISE_MS * 4, "ms")}), saturation ${fmt(r.rps, 0)} requests/s against ${fmt(brps.value, 0)} (${judge(r.rps, brps.value, false, brps.value * 0.03, "requests/s")}).`;
};
const aboveFloor = (t: Target, floor: Target) => c1(rows.get(t)!) - c1(rows.get(floor)!);
const floors = `Each runtime's floor, in the same rounds: a Worker that only forwards, in workerd alone, adds ${fmt(c1(rows.get(workerdFloorT)!), 2)} ms at concurrency 1 (p50); a Node server that only forwards adds ${fmt(c1(rows.get(nodeFloorT)!), 2)} ms. Above its runtime's floor, Auraison adds ${fmt(aboveFloor(auraisonAlone, workerdFloorT), 2)} ms in workerd alone (its key, lease, route, the checks of the request and the answer) and ${fmt(aboveFloor(auraisonWorkerd, workerdFloorT), 2)} ms under Miniflare without the dev proxy (the same, and Miniflare's outbound worker), Portkey ${fmt(aboveFloor(portkeyTarget, nodeFloorT), 2)} ms.`;
console.log(floors);
const verdict = `Targets (added p50 below the best peer's at concurrency 1 and 32, saturation above it, then under 1 ms added): ${verdictOf(auraisonAlone)} ${verdictOf(auraisonWorkerd)} ${verdictOf(auraison)}`;
console.log(verdict);

const file = writeResults(
  "gateway-comparison",
  "Model gateway: added latency and throughput, side by side",
  `
Versions: Auraison gateway (this repository; central in local workerd three ways: under \`wrangler dev\`, as \`npm start\` runs it; as the bundle \`wrangler deploy --dry-run\` builds, run by wrangler's own Miniflare with the Worker on a socket of its own, without the dev proxy, a second workerd every \`wrangler dev\` request crosses and production does not have: test/helpers/central-workerd.ts; and the same bundle in workerd alone, without Miniflare, whose outbound worker every fetch() of a Worker under it crosses and Cloudflare does not have: bench/workerd-alone.ts, where R2 is a stand-in that refuses, used by no call), Portkey gateway ${versionOf(join(PORTKEY, "package.json"))} (\`@portkey-ai/gateway\`, Node, one process; it cannot stream on Node 20 as published — "TypeError: immutable", Portkey-AI/gateway#1389, #1550 — so it runs with bench/gateway-portkey-shim.mjs, which re-wraps fetch() answers as the proposed fix does), LiteLLM proxy ${litellmVersion} (\`litellm[proxy]\`, Python, its default single worker), and each runtime's floor: a server that does nothing but forward the request to the mock and relay its answer, as a Worker in workerd alone (the same workerd release, no Miniflare) and as a Node process (fetch(), as Portkey's gateway uses; bench/gateway-floors.ts). One Node load generator (undici, keep-alive), all eight targets in one run against the same mock provider: OpenAI-style, first token ${TIMING.firstTokenMs} ms after the request, then ${TIMING.tokens - 1} more tokens every ${TIMING.tokenMs} ms (a non-streamed answer arrives when its last token would have). Auraison's tenant has one \`openai-compatible\` provider for the mock and no limits or budgets (leases apply); the request is not deterministic, so the response cache is not involved. Everything ran on the same two cores, the load generator and the mock included.

Latency in ms; in brackets, what the gateway added to the mock called directly at the same percentile. ${share(REQUESTS) * ROUNDS} non-streamed calls at concurrency 1, ${share(C32_REQUESTS) * ROUNDS} at concurrency 32, ${share(STREAM_REQUESTS) * ROUNDS} streamed calls (time to the first content token) at concurrency 1; saturation: ${SATURATION_CONCURRENCY} concurrent non-streamed calls for ${SATURATION_S} s in all. Each is split over ${ROUNDS} rounds that take the targets in turn (each part after a warm-up), so load from elsewhere on the shared machine falls on all targets alike.

| Target | c1 p50 | c1 p99 | c32 p50 | c32 p99 | TTFT p50 | TTFT p99 | requests/s at saturation |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${lines.join("\n")}

${verdict}

${floors}

Where Auraison's time goes, measured in the same run (concurrency 1):

| Path | p50 (ms) | p99 (ms) |
| --- | ---: | ---: |
| The gateway's own time, as its \`x-auraison-gateway-ms\` header reports it (non-streamed calls at concurrency 1, workerd without the dev proxy; workerd's clock moves only at I/O, so this is whole milliseconds between I/O events) | ${fmt(p(w.own, 50), 2)} | ${fmt(p(w.own, 99), 2)} |
| A request to the Worker that reaches no Durable Object (a 404) | ${fmt(p(workerOnly, 50), 2)} | ${fmt(p(workerOnly, 99), 2)} |
| \`GET /v1/models\`: the Worker plus one RPC to the tenant object (key check) | ${fmt(p(workerAndObject, 50), 2)} | ${fmt(p(workerAndObject, 99), 2)} |
| The mock called directly (taken in turn with the two rows below) | ${fmt(p(split.direct, 50), 2)} | ${fmt(p(split.direct, 99), 2)} |
| A model call admitted in the Worker under a lease (${admitted(leasePath)}) | ${fmt(p(split.lease, 50), 2)} (${signed(added(split.lease, split.direct, 50))}) | ${fmt(p(split.lease, 99), 2)} (${signed(added(split.lease, split.direct, 99))}) |
| A model call admitted by the tenant object (a deterministic call with the response cache on, skipping the lookup: ${admitted(objectPath)}) | ${fmt(p(split.object, 50), 2)} (${signed(added(split.object, split.direct, 50))}) | ${fmt(p(split.object, 99), 2)} (${signed(added(split.object, split.direct, 99))}) |

CPU per request (user and system time Linux charged, over ${CPU_CALLS} calls one at a time after the rounds; for Auraison, the workerd running central without the dev proxy, the Worker and the tenant object together, settlement included; on this loaded machine CPU time, unlike latency, does not grow with other engineers' load):

| Request | CPU ms per request |
| --- | ---: |
| Auraison: a request to the Worker that reaches no Durable Object (a 404) | ${fmt(cpu.workerOnly, 3)} |
| Auraison: \`GET /v1/models\` (the Worker plus one RPC to the tenant object) | ${fmt(cpu.withRpc, 3)} |
| Auraison: a model call admitted under a lease | ${fmt(cpu.lease, 3)} |
| Auraison: a model call admitted by the tenant object | ${fmt(cpu.object, 3)} |
| Auraison, central's bundle in workerd alone: a model call admitted under a lease | ${fmt(cpu.alone, 3)} |
| Portkey gateway (its Node process): a model call | ${fmt(cpu.portkey, 3)} |
| floor: a Worker that only forwards (its workerd process) | ${fmt(cpu.workerdFloor, 3)} |
| floor: a Node server that only forwards (its process) | ${fmt(cpu.nodeFloor, 3)} |

How the measured calls were admitted: ${[auraison, auraisonWorkerd, auraisonAlone].map((t) => `${t.name}: ${admitted(t)}`).join("; ")}.

A call through Auraison's gateway is one HTTP request into the Worker (under \`wrangler dev\`, through its dev proxy first), its admission, and the upstream request from the Worker. Admission is in the Worker when a lease the tenant's Durable Object granted covers the call (same key, attribution, model; slots reserved against budgets and counted against rate limits when granted; see the README's "Leases"), else one RPC to the object (key, route, rate limits, budget reservation, cache lookup), which may grant the next lease; a lease is renewed in the background when half of it is used. Settlement (spend, provider health, the \`model_call\` event) goes to the object after the answer (\`waitUntil\`), one RPC for the calls of up to 100 ms (at most 64), so it adds nothing to latency. \`npx tsx bench/gateway-profile.ts\` shows where a leased call's CPU goes, by function. The stream is relayed by the Worker, not by the object.
`,
);
console.log(`wrote ${file}`);

await Promise.all([
  central.stop(),
  workerd.stop(),
  mock.close(),
  alone.stop(),
  workerdFloor.stop(),
  nodeFloor.stop(),
  portkey.stop(),
  litellm.stop(),
]);
for (const agent of agents.values()) await agent.close();
process.exit(0);
