/**
 * Where a gateway call's CPU goes: central in local workerd without the dev proxy (as
 * bench/gateway-comparison.ts runs it), a mock provider answering at once, and leased model
 * calls at a fixed concurrency. Prints the workerd process's CPU per call as Linux charged it
 * (Worker and tenant object together, settlements included), then V8 CPU profiles taken over
 * the same calls through workerd's inspector: how busy central's isolate and Miniflare's outbound
 * worker (which every local fetch() crosses; Cloudflare has none) were per call, and central's
 * functions with the most self time and the most inclusive time, by name and line of the bundle
 * `wrangler deploy --dry-run` builds. Central's profile is written whole for Chrome DevTools
 * (`--out`).
 *
 *   npx tsx bench/gateway-profile.ts [--calls 2000] [--concurrency 4] [--top 40] [--out file]
 *     [--cached]
 *
 * `--cached` turns the tenant's response cache on and makes every call deterministic
 * (temperature 0) and different from the others (each a miss), so every call goes to the tenant
 * object, as such calls do; the median latency a call took is printed with the CPU.
 *
 * Not a results file: the comparison is bench/gateway-comparison.ts; this is the tool behind
 * its "where the time goes".
 */
import { writeFileSync } from "node:fs";
import { Agent, request } from "undici";
import { createKey, freePort, gatewayTenant } from "../test/helpers/central-dev";
import { startCentralWorkerd } from "../test/helpers/central-workerd";
import { platformSecrets } from "../test/helpers/platform-secrets";
import { numberArg } from "./central-report";
import { startMockUpstream } from "./gateway-mock-upstream";
import { childWorkerdPids, cpuMs } from "./process-cpu";
import { percentile } from "./stats";

const CALLS = numberArg("calls", 2_000);
const CONCURRENCY = numberArg("concurrency", 4);
const TOP = numberArg("top", 40);
const outIndex = process.argv.indexOf("--out");
const OUT = outIndex >= 0 ? process.argv[outIndex + 1] : null;
const CACHED = process.argv.includes("--cached");

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const mock = await startMockUpstream({ firstTokenMs: 1, tokenMs: 0, tokens: 1 });
const secrets = platformSecrets();
const inspectorPort = await freePort();
const central = await startCentralWorkerd(
  { ...secrets, AURAISON_PRIVATE_UPSTREAMS: "allow" },
  { inspectorPort },
);
const { admin } = await gatewayTenant(
  { url: central.url, bootstrapKey: secrets.AURAISON_BOOTSTRAP_KEY },
  {
    providers: [
      { id: "mock", kind: "openai-compatible", base_url: `${mock.url}/v1`, models: ["mock"] },
    ],
    ...(CACHED ? { cache: { enabled: true } } : {}),
  },
);
const key = await createKey(central.url, admin, "operator", "profile");

const agent = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 60_000 });
let sent = 0;
const bodyOf = () =>
  JSON.stringify({
    model: "mock",
    max_tokens: 64,
    ...(CACHED ? { temperature: 0 } : {}),
    messages: [
      { role: "system", content: "You are a benchmark." },
      { role: "user", content: CACHED ? `Say twenty tokens (${sent++}).` : "Say twenty tokens." },
    ],
  });
/** Runs `n` calls; returns how long each took, in ms. */
async function calls(n: number): Promise<number[]> {
  let started = 0;
  const took: number[] = [];
  const worker = async () => {
    while (started++ < n) {
      const at = performance.now();
      const response = await request(`${central.url}/v1/chat/completions`, {
        method: "POST",
        dispatcher: agent,
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: bodyOf(),
      });
      const text = await response.body.text();
      took.push(performance.now() - at);
      if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}: ${text}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return took;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 500));

// Warm-up: the code is compiled, and the lease is taken (with --cached, the tenant object keys
// the calls for its cache, and the isolate learns that no lease would admit them).
await calls(300);
await settle();
const workerd = childWorkerdPids();
const cpuBefore = cpuMs(workerd);
const wallStart = performance.now();
const took = (await calls(CALLS)).sort((a, b) => a - b);
const wall = performance.now() - wallStart;
await settle(); // settlements run after the answers
const cpuPerCall = (cpuMs(workerd) - cpuBefore) / CALLS;
console.log(
  `${CALLS}${CACHED ? " deterministic calls (cache on, each a miss)" : " calls"} at concurrency ${CONCURRENCY}: ${(CALLS / (wall / 1000)).toFixed(0)} calls/s, p50 ${percentile(took, 50).toFixed(2)} ms, workerd CPU ${cpuPerCall.toFixed(3)} ms per call`,
);

// The isolate of central's Worker (and its Durable Objects) among workerd's inspector targets.
const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as {
  id: string;
  webSocketDebuggerUrl: string;
}[];
/** A V8 profiler session on one of workerd's isolates, over its inspector. */
async function profiler(idSuffix: string) {
  const target = targets.find((t) => t.id.endsWith(idSuffix));
  if (!target) throw new Error(`no inspector target ${idSuffix}: ${JSON.stringify(targets)}`);
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve);
    socket.addEventListener("error", reject);
  });
  let nextId = 0;
  const waiting = new Map<number, (result: unknown) => void>();
  socket.addEventListener("message", (message) => {
    const { id, result } = JSON.parse(String(message.data)) as { id?: number; result?: unknown };
    if (id !== undefined) waiting.get(id)?.(result);
  });
  const send = <T>(method: string, params: Record<string, unknown> = {}) =>
    new Promise<T>((resolve) => {
      const id = ++nextId;
      waiting.set(id, resolve as (result: unknown) => void);
      socket.send(JSON.stringify({ id, method, params }));
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 100 });
  return {
    start: () => send("Profiler.start"),
    async stop(): Promise<Profile> {
      const { profile } = await send<{ profile: Profile }>("Profiler.stop");
      socket.close();
      return profile;
    },
  };
}

// Central's isolate (its Worker and Durable Objects), and Miniflare's outbound worker: locally
// every fetch() a Worker makes goes through that JavaScript worker (it rewrites two headers and
// fetches again), which Cloudflare does not have, so its share is reported on its own.
const centralProfiler = await profiler(":auraison-central");
const outboundProfiler = await profiler("outbound:0");
await Promise.all([centralProfiler.start(), outboundProfiler.start()]);
await calls(CALLS);
await settle();
const [profile, outbound] = await Promise.all([centralProfiler.stop(), outboundProfiler.stop()]);
if (OUT) writeFileSync(OUT, JSON.stringify(profile));

/** Time the isolate was not idle, in ms (the profiler's own overhead included). */
function busyMs({ samples, timeDeltas, nodes }: Profile): number {
  const idleNodes = new Set(
    nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id),
  );
  let us = 0;
  samples.forEach((nodeId, i) => {
    if (!idleNodes.has(nodeId)) us += timeDeltas[i] ?? 0;
  });
  return us / 1000;
}

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map<number, number>();
for (const node of profile.nodes)
  for (const child of node.children ?? []) parentOf.set(child, node.id);
const label = (frame: CallFrame) =>
  `${frame.functionName || "(anonymous)"} ${frame.url ? `${frame.url.split("/").pop()}:${frame.lineNumber + 1}` : ""}`.trim();
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
profile.samples.forEach((nodeId, i) => {
  const us = profile.timeDeltas[i] ?? 0;
  const node = byId.get(nodeId)!;
  const own = label(node.callFrame);
  self.set(own, (self.get(own) ?? 0) + us);
  const seen = new Set<string>();
  for (let at: number | undefined = nodeId; at !== undefined; at = parentOf.get(at)) {
    const name = label(byId.get(at)!.callFrame);
    if (seen.has(name)) continue;
    seen.add(name);
    inclusive.set(name, (inclusive.get(name) ?? 0) + us);
  }
});
const busy = busyMs(profile);
console.log(
  `profile (the profiler's overhead included): central's isolate busy ${(busy / CALLS).toFixed(3)} ms per call; Miniflare's outbound worker ${(busyMs(outbound) / CALLS).toFixed(3)} ms per call`,
);
const table = (title: string, times: Map<string, number>) => {
  console.log(`\n${title} (ms per call, function and bundle line)`);
  const shown = [...times].filter(([name]) => name !== "(idle)" && name !== "(root)");
  for (const [name, us] of shown.sort((a, b) => b[1] - a[1]).slice(0, TOP))
    console.log(`${(us / 1000 / CALLS).toFixed(4).padStart(8)}  ${name}`);
};
table("self time", self);
table("inclusive time", inclusive);
await central.stop();
await mock.close();
process.exit(0);
