/**
 * Memory per connected idle edge agent: resident memory of workerd (and wrangler) under
 * `wrangler dev` before and after N agents connect and register over hibernatable WebSockets,
 * and again after they have been idle.
 *
 *   npx tsx bench/central-memory.ts [--agents 500] [--idle-seconds 20]
 */
import { createKey, createTenant, startCentralDev } from "../test/helpers/central-dev";
import { ScriptedAgent } from "../test/helpers/scripted-agent";
import { groupRssKiB, numberArg, writeResults } from "./central-report";
import { fmt } from "./stats";

const count = numberArg("agents", 500);
const idleSeconds = numberArg("idle-seconds", 20);

const central = await startCentralDev({ logLevel: "warn" });
try {
  const admin = await createTenant(central.url, central.bootstrapKey, "bench");
  const agentKey = await createKey(central.url, admin, "agent", "bench");
  const warm = await ScriptedAgent.connect(central.url, agentKey, "bench", "warm-up");
  await warm.close();
  /** wrangler dev runs two workerd processes: its dev proxy (started first) and the Worker. */
  const sample = () => {
    const procs = groupRssKiB(central.pid()!);
    const runtimes = procs.filter((p) => p.comm === "workerd").sort((a, b) => a.pid - b.pid);
    return {
      proxy: runtimes[0]?.rssKiB ?? 0,
      worker: runtimes.at(-1)?.rssKiB ?? 0,
      workerd: runtimes.reduce((n, p) => n + p.rssKiB, 0),
      all: procs.reduce((n, p) => n + p.rssKiB, 0),
    };
  };
  await new Promise((r) => setTimeout(r, 2_000));
  const before = sample();
  const agents: ScriptedAgent[] = [];
  for (let i = 0; i < count; i++)
    agents.push(await ScriptedAgent.connect(central.url, agentKey, "bench", `idle-${i}`));
  // Idle, as a real agent idles: a heartbeat every 10 s (the default interval is 30 s).
  const beat = setInterval(() => {
    for (const a of agents)
      a.send({ type: "heartbeat", status: "online", running: [], outbox_pending: 0 });
  }, 10_000);
  await new Promise((r) => setTimeout(r, 2_000));
  const connected = sample();
  await new Promise((r) => setTimeout(r, idleSeconds * 1000));
  const idle = sample();
  clearInterval(beat);
  const list = (await (
    await fetch(`${central.url}/v1/agents`, { headers: { authorization: `Bearer ${admin}` } })
  ).json()) as {
    agents: { status: string }[];
  };
  const online = list.agents.filter((a) => a.status === "online").length;
  const per = (a: number, b: number) => (a - b) / count;
  const mib = (k: number) => fmt(k / 1024);
  const lines = [
    `| Worker runtime (workerd with the tenant Durable Object), MiB | ${mib(before.worker)} | ${mib(connected.worker)} | ${mib(idle.worker)} |`,
    `| wrangler's dev proxy runtime (workerd), MiB | ${mib(before.proxy)} | ${mib(connected.proxy)} | ${mib(idle.proxy)} |`,
    `| everything in wrangler's process group, MiB | ${mib(before.all)} | ${mib(connected.all)} | ${mib(idle.all)} |`,
    `| **Worker runtime, KiB per agent** | | ${fmt(per(connected.worker, before.worker))} | ${fmt(per(idle.worker, before.worker))} |`,
    `| dev proxy runtime, KiB per agent | | ${fmt(per(connected.proxy, before.proxy))} | ${fmt(per(idle.proxy, before.proxy))} |`,
    `| both workerd processes, KiB per agent | | ${fmt(per(connected.workerd, before.workerd))} | ${fmt(per(idle.workerd, before.workerd))} |`,
  ];
  for (const l of lines) console.log(l);
  const file = writeResults(
    "central-memory",
    "Central: memory per connected idle agent",
    `${count} edge agents (scripted \`ws\` clients) connect to one tenant Durable Object under \`wrangler dev\` and register (\`hello\` → \`welcome\`), then stay idle for ${idleSeconds} s, sending only a heartbeat every 10 s; ${online} of them were \`online\` at the end. Resident memory is read from /proc for wrangler's process group.

| | before | ${count} connected | after ${idleSeconds} s idle |
| --- | ---: | ---: | ---: |
${lines.join("\n")}

The tenant object accepts agents with the WebSocket Hibernation API: on Cloudflare the sockets are held by the runtime and an idle object can leave memory entirely, so an idle agent costs the object nothing until it sends a frame. Locally, workerd keeps the object resident, so the Worker runtime's growth is the per-connection cost of a resident object (the socket, its serialized attachment, the Agent SDK's connection wrapper); the dev proxy runtime's share exists only under \`wrangler dev\`, which relays every WebSocket.`,
  );
  console.log(`wrote ${file}`);
  await Promise.all(agents.map((a) => a.close()));
} finally {
  await central.stop();
}
