import { randomBytes } from "node:crypto";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ManagedProcess, spawnManaged } from "../../cli/local-stack/processes";
import { CentralClient, EventsPage, IntentAccepted, PATHS } from "../../contract";
import { type CentralDev, createKey, createTenant, startCentralDev } from "../helpers/central-dev";
import { BIN, runCli } from "../helpers/cli";
import { agentOnline, runEnded } from "../helpers/platform-processes";

const APP = "lab-secrets";
/** The tenant secret: random, and shaped like no token a pattern would recognise. */
const VALUE = `lab-${randomBytes(12).toString("hex")}`;
/** What the host's environment says for the same name: the tenant secret must win. */
const HOST_VALUE = `host-${randomBytes(12).toString("hex")}`;

/** Every file under `dir` whose bytes contain `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile() && readFileSync(path).includes(needle)) found.push(path);
    }
  };
  walk(dir);
  return found;
}

/**
 * Issue 14, secrets scoped to runs, end to end: an admin keeps a secret in central with the CLI
 * (sealed there), a real edge agent whose app declares it claims a run, redeems the claim's
 * handle, and its http-json adapter sends the value in its request headers to a fake upstream,
 * which echoes it back. The value is then nowhere else: not in central's events or storage, the
 * edge's outbox, run records or session files, the agent's output, or memory.
 */
describe("a tenant secret reaches the adapter's request and nowhere else", () => {
  const root = mkdtempSync(join(tmpdir(), "auraison-secrets-"));
  const appDir = join(root, "app");
  const state = join(root, "edge");
  const home = join(root, "home");
  let central: CentralDev;
  let upstream: Server;
  const requests: IncomingHttpHeaders[] = [];
  let edge: ManagedProcess | null = null;
  let admin: CentralClient;
  let adminKey: string;

  const cli = (args: string[], input?: string) =>
    runCli(args, {
      env: { AURAISON_URL: central.url, AURAISON_KEY: adminKey, AURAISON_HOME: home },
      timeoutMs: 120_000,
      ...(input === undefined ? {} : { input }),
    });

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      requests.push(req.headers);
      req.resume();
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ status: "calibrated", echo: req.headers["x-lab-key"] ?? null }));
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

    mkdirSync(join(appDir, "adapters"), { recursive: true });
    writeFileSync(
      join(appDir, "app.json"),
      JSON.stringify({ app: APP, secrets: ["LAB_TOKEN"], policy: { allowed_tools: ["lab_*"] } }),
    );
    writeFileSync(
      join(appDir, "adapters", "lab.json"),
      JSON.stringify({
        kind: "http-json",
        name: "lab",
        base_url: upstreamUrl,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the declaration's own ${NAME} syntax
        headers: { authorization: "Bearer ${LAB_TOKEN}", "x-lab-key": "${LAB_TOKEN}" },
        endpoints: [
          { tool: "lab_status", description: "The instrument's status", path: "/status" },
        ],
      }),
    );
    writeFileSync(
      join(appDir, "scripted-model.json"),
      JSON.stringify({
        description: "Asks the lab service for its status, then answers.",
        steps: [
          { tools: [{ tool: "lab_status", args: {} }] },
          { answer: "The instrument is calibrated." },
        ],
      }),
    );

    central = await startCentralDev({
      vars: { AURAISON_GATEWAY_KEK: randomBytes(32).toString("base64url") },
    });
    adminKey = await createTenant(central.url, central.bootstrapKey, "lab-secrets-e2e");
    admin = new CentralClient({ url: central.url, key: adminKey });
    const agentKey = await createKey(central.url, adminKey, "agent", "lab host", APP);
    edge = spawnManaged(
      "edge",
      process.execPath,
      [
        BIN,
        ...["edge", "start", "--app", APP, "--app-dir", appDir],
        ...["--agent-id", "host-1.lab-secrets", "--state", state, "--model", `scripted/${APP}`],
      ],
      {
        env: {
          ...process.env,
          AURAISON_URL: central.url,
          AURAISON_KEY: agentKey,
          LAB_TOKEN: HOST_VALUE,
        },
      },
    );
    await agentOnline(admin, "host-1.lab-secrets", edge);
  }, 180_000);

  afterAll(async () => {
    await edge?.stop("SIGTERM", 20_000);
    await central?.stop();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  it("is kept with `auraison secrets`, values never shown", async () => {
    const set = await cli(["secrets", "set", "LAB_TOKEN"], `${VALUE}\n`);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain("LAB_TOKEN");
    const file = join(root, "robot.key");
    writeFileSync(file, "robot-secret-value-0123\n");
    const fromFile = await cli([
      "secrets",
      "set",
      "ROBOT_KEY",
      "--from-file",
      file,
      "--app",
      "turtlebot",
    ]);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    const list = await cli(["secrets", "list", "--json"]);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toMatchObject([
      { name: "LAB_TOKEN", apps: null },
      { name: "ROBOT_KEY", apps: ["turtlebot"] },
    ]);
    expect(list.stdout).not.toContain(VALUE);
    const table = await cli(["secrets", "list"]);
    expect(table.stdout).toMatch(/ROBOT_KEY\s+turtlebot/);
    const rm = await cli(["secrets", "rm", "ROBOT_KEY"]);
    expect(rm.code, rm.stderr).toBe(0);
    const gone = await cli(["secrets", "rm", "ROBOT_KEY"]);
    expect(gone.code).not.toBe(0);
    const empty = await runCli(["secrets", "set", "EMPTY"], {
      env: { AURAISON_URL: central.url, AURAISON_KEY: adminKey },
      input: "",
    });
    expect(empty.code).toBe(2);
  }, 120_000);

  it("goes to the adapter's request for the run that claimed it, and is masked everywhere else", async () => {
    const accepted = await admin.request("POST", PATHS.intents, IntentAccepted, {
      params: { prompt: "Is the instrument calibrated?" },
      targets: [{ app: APP }],
    });
    const runId = accepted.run.run_id;
    const run = await runEnded(admin, accepted.run, edge!);
    expect(run.status, edge!.output()).toBe("completed");

    // The adapter's request carried the tenant secret (not the host's variable of that name).
    expect(requests).toHaveLength(1);
    expect(requests[0]!["x-lab-key"]).toBe(VALUE);
    expect(requests[0]!.authorization).toBe(`Bearer ${VALUE}`);

    // The upstream echoed it; the tool result in the log says [REDACTED] instead.
    let page = await admin.request("GET", `${PATHS.events}?run=${runId}&limit=1000`, EventsPage);
    for (let i = 0; i < 50; i++) {
      if (page.events.some((e) => e.kind === "run_completed" && e.source === "edge")) break;
      await new Promise((r) => setTimeout(r, 200));
      page = await admin.request("GET", `${PATHS.events}?run=${runId}&limit=1000`, EventsPage);
    }
    const finished = page.events.find((e) => e.kind === "tool_call_finished");
    expect(finished?.kind === "tool_call_finished" && JSON.parse(finished.payload.result!)).toEqual(
      {
        status: "calibrated",
        echo: "[REDACTED]",
      },
    );
    expect(JSON.stringify(page.events)).not.toContain(VALUE);

    // Nowhere on the edge: outbox, run records, session files; nor in what the agent printed.
    expect(filesContaining(state, "calibrated").length).toBeGreaterThan(0);
    expect(filesContaining(state, VALUE)).toEqual([]);
    expect(edge!.output()).not.toContain(VALUE);
    // Nowhere in central's storage (sealed at rest) or its output.
    expect(filesContaining(central.persistDir, VALUE)).toEqual([]);
    expect(central.output()).not.toContain(VALUE);

    // Nowhere in memory.
    const synced = await cli(["memory", "sync", "--json"]);
    expect(synced.code, synced.stderr).toBe(0);
    const tools = await cli([
      "memory",
      "sql",
      `SELECT * FROM tool_calls WHERE run_id = '${runId}'`,
      "--json",
    ]);
    expect(tools.code, tools.stderr).toBe(0);
    expect(tools.stdout).toContain("lab_status");
    expect(tools.stdout).not.toContain(VALUE);
    const all = await cli(["memory", "sql", "SELECT * FROM events", "--json"]);
    expect(all.stdout).toContain("[REDACTED]");
    expect(all.stdout).not.toContain(VALUE);
    expect(filesContaining(home, VALUE)).toEqual([]);
  }, 180_000);
});
