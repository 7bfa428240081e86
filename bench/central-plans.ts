/**
 * Central's overhead per plan step, through one tenant Durable Object in local workerd (under
 * `wrangler dev`, or with `--direct` without its dev proxy), with a scripted edge agent that
 * answers every dispatch at once: plan submitted → its first step dispatched; a step done → its
 * dependent dispatched (p50, p99); and a 200-step plan end to end. Results in
 * bench/results/central-plans.md.
 *
 *   npx tsx bench/central-plans.ts [--plans 100] [--steps 200] [--direct]
 */
import { type Plan, PlanAccepted } from "../contract";
import { createKey, createTenant } from "../test/helpers/central-dev";
import { ScriptedAgent } from "../test/helpers/scripted-agent";
import { latencyRow, numberArg, writeResults } from "./central-report";
import { startBenchCentral } from "./central-workerd";
import { fmt } from "./stats";

const plans = numberArg("plans", 100);
const bigSteps = numberArg("steps", 200);
const warmup = Math.min(10, plans);
const WIDTH = 10;

const central = await startBenchCentral();
const { direct, where } = central;
try {
  const admin = await createTenant(central.url, central.bootstrapKey, "bench");
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${central.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as unknown;
  };
  // Plans retry their own steps: each run gets one attempt.
  await api("PUT", "/v1/settings", { retry: { max_attempts: 1 } });
  const agentKey = await createKey(central.url, admin, "agent", "bench");
  const agent = await ScriptedAgent.connect(central.url, agentKey, "bench", "bench-1", {
    registration: { max_concurrency: 64 },
  });
  const done = (run: { run_id: string; attempt: number }) => agent.completed(run);
  const submit = async (steps: unknown[]) =>
    PlanAccepted.parse(
      await api("POST", "/v1/plans", {
        goal: "bench",
        planner: "given",
        steps,
        policy: { max_parallel: 64 },
      }),
    ).plan;

  const toFirst: number[] = [];
  const toNext: number[] = [];
  for (let i = 0; i < warmup + plans; i++) {
    const t0 = performance.now();
    const first = agent
      .next("dispatch", () => true, 30_000)
      .then((d) => ({ d, at: performance.now() }));
    await submit([
      { id: "one", targets: [{ app: "lab-notes" }] },
      { id: "two", targets: [{ app: "lab-notes" }], depends_on: ["one"] },
    ]);
    const { d, at } = await first;
    const run = await agent.take(d);
    const second = agent
      .next("dispatch", () => true, 30_000)
      .then((n) => ({ n, at: performance.now() }));
    const t1 = performance.now();
    agent.send({ type: "events", batch_id: crypto.randomUUID(), events: [done(run)] });
    const { n, at: at2 } = await second;
    if (i >= warmup) {
      toFirst.push(at - t0);
      toNext.push(at2 - t1);
    }
    await agent.emit([done(await agent.take(n))]);
  }

  // The baseline in the same run: a plain intent, submitted and dispatched the same way.
  const intentToDispatch: number[] = [];
  for (let i = 0; i < plans; i++) {
    const t0 = performance.now();
    const first = agent
      .next("dispatch", () => true, 30_000)
      .then((d) => ({ d, at: performance.now() }));
    await api("POST", "/v1/intents", { params: { prompt: "x" }, targets: [{ app: "lab-notes" }] });
    const { d, at } = await first;
    intentToDispatch.push(at - t0);
    await agent.emit([done(await agent.take(d))]);
  }

  // A 200-step plan: layers of WIDTH steps, each waiting for its counterpart in the layer before.
  const steps = Array.from({ length: bigSteps }, (_, i) => ({
    id: `s${i}`,
    targets: [{ app: "lab-notes" }],
    depends_on: i >= WIDTH ? [`s${i - WIDTH}`] : [],
  }));
  let answered = 0;
  let stop = false;
  const answering = (async () => {
    while (!stop) {
      const d = await agent.next("dispatch", () => true, 60_000).catch(() => null);
      if (!d) continue;
      void agent.take(d).then((run) => {
        answered += 1;
        agent.send({ type: "events", batch_id: crypto.randomUUID(), events: [done(run)] });
      });
    }
  })();
  const t0 = performance.now();
  const big = await submit(steps);
  let final: Plan;
  for (;;) {
    final = (await api("GET", `/v1/plans/${big.plan_id}`)) as Plan;
    if (final.status !== "running") break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const endToEnd = performance.now() - t0;
  stop = true;
  await Promise.race([answering, new Promise((r) => setTimeout(r, 100))]);
  if (final.status !== "completed") throw new Error(`the big plan ended ${final.status}`);

  const row = latencyRow;
  const table = [
    row("`POST /v1/plans` → first step's `dispatch` at the edge", toFirst),
    row("a step's `run_completed` sent → its dependent's `dispatch` at the edge", toNext),
    row("baseline, same run: `POST /v1/intents` → its `dispatch` at the edge", intentToDispatch),
  ].join("\n");
  console.log(`${bigSteps}-step plan: ${fmt(endToEnd, 0)} ms (${answered} runs)`);
  const file = writeResults(
    direct ? "central-plans-workerd" : "central-plans",
    "Central: plan overhead per step",
    `${plans} two-step plans (after ${warmup} warm-up), one at a time, planner \`given\`, to one scripted edge agent (a \`ws\` client that acks, claims and completes every dispatch at once) of one tenant Durable Object ${where}.

| Interval | p50 (ms) | p99 (ms) | max (ms) |
| --- | ---: | ---: | ---: |
${table}

A ${bigSteps}-step plan (${bigSteps / WIDTH} layers of ${WIDTH} parallel steps, each waiting for its counterpart in the layer before; \`max_parallel\` 64), from \`POST /v1/plans\` to the plan \`completed\` (polled every 250 ms): **${fmt(endToEnd, 0)} ms**, ${fmt(endToEnd / bigSteps, 2)} ms a step, ${answered} runs.

No peer is measured: neither Raworc nor Agirunner runs plans of intents across agents.

Run: \`npx tsx bench/central-plans.ts${direct ? " --direct" : ""}\`.`,
  );
  console.log(`wrote ${file}`);
  await agent.close();
} finally {
  await central.stop();
}
