import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IntentAccepted, parse } from "../../../contract";
import {
  type CentralDev,
  createKey,
  createTenant,
  freePort,
  startCentralDev,
} from "../../helpers/central-dev";
import { parseExposition, sampleValue } from "../../helpers/prometheus-text";
import { ScriptedAgent } from "../../helpers/scripted-agent";

/**
 * /metrics against `wrangler dev`, checked by Prometheus' own tools (Debian's `prometheus`
 * package, installed by .ci/run): `promtool check metrics` on what central serves, and a real
 * Prometheus server scraping it with a viewer key as its bearer credential, queried over its
 * HTTP API.
 */

let central: CentralDev;
let work: string;
let prometheus: ChildProcess | null = null;
let prometheusLog = "";

beforeAll(async () => {
  central = await startCentralDev();
  work = mkdtempSync(join(tmpdir(), "auraison-prometheus-"));
}, 120_000);
afterAll(async () => {
  if (prometheus && prometheus.exitCode === null) {
    const exited = new Promise((resolve) => prometheus!.once("exit", resolve));
    prometheus.kill("SIGTERM");
    await exited;
  }
  await central?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
}, 30_000);

const until = async <T>(what: string, check: () => Promise<T | undefined>, ms = 30_000) => {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${prometheusLog}`);
    await new Promise((r) => setTimeout(r, 250));
  }
};

/** A tenant with an agent that took one run and another run still queued. */
async function busyTenant(): Promise<{ viewer: string; agent: ScriptedAgent }> {
  const tenant = `prom-${crypto.randomUUID().slice(0, 8)}`;
  const admin = await createTenant(central.url, central.bootstrapKey, tenant);
  const viewer = await createKey(central.url, admin, "viewer", "prometheus");
  const agentKey = await createKey(central.url, admin, "agent", "notes", "lab-notes");
  const agent = await ScriptedAgent.connect(central.url, agentKey, tenant, "notes-1");
  for (let i = 0; i < 2; i++) {
    const response = await fetch(`${central.url}/v1/intents`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({ targets: [{ app: "lab-notes" }], params: { prompt: "go" } }),
    });
    expect(response.status).toBe(201);
    parse(IntentAccepted, await response.json(), "IntentAccepted");
  }
  const dispatch = await agent.next("dispatch");
  agent.send({ type: "ack", run_id: dispatch.run_id, attempt: dispatch.attempt });
  agent.send({ type: "claim", run_id: dispatch.run_id, attempt: dispatch.attempt });
  await agent.next("claimed");
  return { viewer, agent };
}

describe("GET /metrics under wrangler dev", () => {
  it("passes promtool check metrics, and a real Prometheus scrapes it with a bearer key", async () => {
    const { viewer, agent } = await busyTenant();
    const response = await fetch(`${central.url}/metrics`, {
      headers: { authorization: `Bearer ${viewer}` },
    });
    const text = await response.text();
    expect(response.status, text).toBe(200);
    expect(sampleValue(parseExposition(text), "auraison_runs", { status: "running" })).toBe(1);

    // promtool lints names, units, suffixes and HELP as well as the syntax; any finding fails.
    const lint = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    expect(lint.error, "promtool is not installed (Debian package prometheus)").toBeUndefined();
    expect(`${lint.stdout}${lint.stderr}`).toBe("");
    expect(lint.status).toBe(0);

    // The key is read from a file (never a command line), as Prometheus' own docs advise.
    const keyFile = join(work, "central.key");
    writeFileSync(keyFile, viewer, { mode: 0o600 });
    const target = new URL(central.url).host;
    const config = join(work, "prometheus.yml");
    writeFileSync(
      config,
      [
        "global:",
        "  scrape_interval: 1s",
        "scrape_configs:",
        "  - job_name: auraison",
        "    metrics_path: /metrics",
        "    authorization:",
        "      type: Bearer",
        `      credentials_file: ${keyFile}`,
        "    static_configs:",
        `      - targets: ["${target}"]`,
        "",
      ].join("\n"),
    );
    const configCheck = spawnSync("promtool", ["check", "config", config], { encoding: "utf8" });
    expect(configCheck.status, configCheck.stdout + configCheck.stderr).toBe(0);

    const port = await freePort();
    prometheus = spawn(
      "prometheus",
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(work, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const keep = (chunk: Buffer) => {
      prometheusLog = (prometheusLog + chunk.toString()).slice(-8_000);
    };
    prometheus.stdout!.on("data", keep);
    prometheus.stderr!.on("data", keep);
    const api = `http://127.0.0.1:${port}`;
    await until("prometheus ready", async () =>
      (await fetch(`${api}/-/ready`)).ok ? true : undefined,
    );

    const query = async (q: string) => {
      const body = (await (
        await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`)
      ).json()) as {
        status: string;
        data: { result: { metric: Record<string, string>; value: [number, string] }[] };
      };
      expect(body.status).toBe("success");
      return body.data.result;
    };
    const up = await until("a successful scrape", async () => {
      const r = await query('up{job="auraison"}');
      return r[0]?.value[1] === "1" ? r : undefined;
    });
    expect(up).toHaveLength(1);
    const running = await query('auraison_runs{job="auraison",status="running"}');
    expect(running).toEqual([
      expect.objectContaining({
        metric: expect.objectContaining({ app: "lab-notes", status: "running" }),
        value: [expect.any(Number), "1"],
      }),
    ]);
    const queued = await query("auraison_run_queue_depth");
    expect(queued[0]?.value[1]).toBe("1");
    const latency = await query(
      'histogram_quantile(0.5, sum by (le) (auraison_run_dispatch_latency_seconds_bucket{app="lab-notes"}))',
    );
    expect(Number(latency[0]?.value[1])).toBeGreaterThan(0);
    const targets = (await (await fetch(`${api}/api/v1/targets`)).json()) as {
      data: { activeTargets: { health: string; lastError: string }[] };
    };
    expect(targets.data.activeTargets).toEqual([
      expect.objectContaining({ health: "up", lastError: "" }),
    ]);
    await agent.close();
  }, 120_000);
});
