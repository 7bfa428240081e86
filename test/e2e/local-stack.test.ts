import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type ManagedProcess, spawnManaged } from "../../cli/local-stack/processes";
import { PROJECT_ROOT } from "../../cli/wrangler";
import { until } from "../edge/helpers/edge-process";
import { freePort } from "../helpers/central-dev";
import { BIN, runCli } from "../helpers/cli";
import { startDevStack } from "../helpers/platform-processes";

/**
 * `npm start` from a clean state, driven like a user would from a second terminal: the stack
 * comes up on its own (central, tenant, edge agent on the sample app, memory), the CLI finds it
 * without flags, an intent runs on the scripted model through real tools, central has its
 * events, memory has its rows, Ctrl-C stops everything, and a second start resumes.
 */
describe("npm start: the whole platform on one machine", () => {
  const home = mkdtempSync(join(tmpdir(), "auraison-e2e-home-"));
  const env = {
    AURAISON_HOME: home,
    ANTHROPIC_API_KEY: "",
    OPENAI_API_KEY: "",
    AURAISON_FALLBACK_BASE_URL: "",
    AURAISON_BOOTSTRAP_KEY: "",
  };
  let stack: ManagedProcess | null = null;
  let port = 0;

  afterAll(async () => {
    await stack?.stop("SIGKILL", 0);
  });

  const start = () => startDevStack(port, env);

  const cli = (args: string[]) => runCli(args, { env, timeoutMs: 120_000 });

  /** `auraison intent submit --app <app> <task> --wait`, which must succeed. */
  const submit = async (app: string, task: string) => {
    const run = await cli(["intent", "submit", "--app", app, task, "--wait"]);
    expect(run.code, run.stderr).toBe(0);
    return run;
  };

  it("comes up from a clean state and says what runs where, labelling the scripted model", async () => {
    port = await freePort();
    stack = await start();
    const out = stack.output();
    expect(out).toMatch(/central +http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toMatch(/admin key \(shown once\): aur_admin_local_/);
    expect(out).toContain("scripted/lab-notes");
    expect(out).toContain("NOT a real model");
    expect(out).toContain("following central's log");
    const saved = JSON.parse(readFileSync(join(home, "local.json"), "utf8"));
    expect(saved).toMatchObject({ tenant: "local", url: `http://127.0.0.1:${port}` });
  }, 300_000);

  let runId = "";

  it("runs an intent submitted from a second terminal, streaming its events to the end", async () => {
    const submitted = await submit("lab-notes", "summarise the notebook");
    expect(submitted.stdout).toContain("run_started");
    expect(submitted.stdout).toContain("tool_call_finished bash ok");
    expect(submitted.stdout).toContain("run_completed");
    runId = /^run ([0-9a-f-]{36})/m.exec(submitted.stdout)![1]!;

    const runs = JSON.parse((await cli(["--json", "runs", "list"])).stdout);
    expect(runs.find((r: { run_id: string }) => r.run_id === runId)).toMatchObject({
      status: "completed",
      app: "lab-notes",
      attempt: 1,
    });
    const agents = JSON.parse((await cli(["--json", "agents", "list"])).stdout);
    expect(agents).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ app: "lab-notes", status: "online" }),
        expect.objectContaining({ app: "sim-bench", status: "online" }),
      ]),
    );
    expect(agents).toHaveLength(2);
    expect(existsSync(join(home, "edge/lab-notes/work/reports/notes-summary.md"))).toBe(true);
  }, 180_000);

  it("plans across both sample apps with central's scripted planner: plan submit --wait", async () => {
    expect(stack!.output()).toContain("scripted planner");
    const goal = "compare the notebook's measurements with a simulation";
    expect(stack!.output()).toContain(`npx auraison plan submit "${goal}" --wait`);
    const run = await cli(["plan", "submit", goal, "--wait"]);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    const planId = /^plan ([0-9a-f-]{36})$/m.exec(run.stdout)![1]!;
    const plan = JSON.parse((await cli(["--json", "plan", "show", planId])).stdout);
    expect(plan).toMatchObject({ status: "completed", planner: "model" });
    expect(plan.steps.map((s: { id: string; status: string }) => [s.id, s.status])).toEqual([
      ["measure", "completed"],
      ["simulate", "completed"],
      ["compare", "completed"],
    ]);
    const runs = JSON.parse((await cli(["--json", "runs", "list"])).stdout) as Array<{
      run_id: string;
      app: string;
    }>;
    const appOf = (step: number) =>
      runs.find((r) => r.run_id === plan.steps[step].runs.at(-1).run_id)?.app;
    expect([appOf(0), appOf(1), appOf(2)]).toEqual(["lab-notes", "sim-bench", "sim-bench"]);
    const events = (
      await cli(["--json", "events", "--kind", "model_call", "--limit", "1000"])
    ).stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { source: string; payload: { provider: string } });
    expect(
      events.some((e) => e.source === "central" && e.payload.provider === "local-planner"),
    ).toBe(true);
  }, 180_000);

  it("has the run, its tool calls and its (scripted) model calls in memory, queryable with SQL", async () => {
    const query = `select r.status, r.app, count(distinct t.tool_call_id) as tools, count(distinct m.call_id) as model_calls,
      bool_and(m.scripted) as scripted from runs r join tool_calls t using (run_id) join model_calls m using (run_id)
      where r.run_id = '${runId}' group by all`;
    let rows: Array<Record<string, unknown>> = [];
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      const result = await cli(["--json", "memory", "sql", query]);
      rows = result.code === 0 ? JSON.parse(result.stdout) : [];
      if (rows.length > 0 && rows[0]!.status === "completed") break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    expect(rows).toEqual([
      { status: "completed", app: "lab-notes", tools: 5, model_calls: 6, scripted: true },
    ]);
  }, 120_000);

  it("keeps central.log quiet on an offline laptop: no stack traces or charge warnings, little growth while idle", async () => {
    const log = join(home, "logs", "central.log");
    expect(readFileSync(log, "utf8")).not.toMatch(
      /ENOTFOUND|workers\.cloudflare\.com|usage charges/,
    );
    // Memory follows the log; polling it every 2 s used to add about 10 KB a minute.
    const before = statSync(log).size;
    await new Promise((r) => setTimeout(r, 15_000));
    expect(statSync(log).size - before).toBeLessThan(1_000);
  }, 60_000);

  it("refuses a second `auraison dev` on the same state dir up front, leaving the first one reachable", async () => {
    const saved = readFileSync(join(home, "local.json"), "utf8");
    const second = await cli(["dev", "--port", String(await freePort())]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(
      new RegExp(
        `another auraison dev \\(pid ${stack!.child.pid}\\) is using .*serving http://127\\.0\\.0\\.1:${port}`,
      ),
    );
    expect(readFileSync(join(home, "local.json"), "utf8")).toBe(saved);
    expect((await cli(["agents", "list"])).code).toBe(0);
  }, 120_000);

  it("keeps tenant secrets: the stack has its own key-encryption key", async () => {
    const set = await runCli(["secrets", "set", "LAB_TOKEN"], {
      env,
      input: "local-lab-token-0123",
      timeoutMs: 60_000,
    });
    expect(set.code, set.stderr).toBe(0);
    const list = await cli(["--json", "secrets", "list"]);
    expect(JSON.parse(list.stdout)).toMatchObject([{ name: "LAB_TOKEN", apps: null }]);
    expect(list.stdout).not.toContain("local-lab-token-0123");
    expect(statSync(join(home, "gateway-kek.env")).mode & 0o777).toBe(0o600);
  }, 60_000);

  it("runs a new app folder on the stack: app init, edge start finds the stack and runs on the labelled scripted model; a clean stop is offline at once", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "auraison-e2e-app-")), "my-app");
    expect((await cli(["app", "init", dir])).code).toBe(0);
    const edge = spawnManaged(
      "my-app",
      process.execPath,
      [BIN, "edge", "start", "--app-dir", dir],
      {
        env: { ...process.env, ...env, AURAISON_URL: "", AURAISON_KEY: "" },
      },
    );
    try {
      await until(() => edge.output().includes("connected to central"), 90_000);
      expect(edge.output()).toContain(`central: the local stack at http://127.0.0.1:${port}`);
      expect(edge.output()).toMatch(/scripted\/my-app .*NOT a real model.*no model provider/);
      expect(existsSync(join(home, "keys", "edge-my-app.json"))).toBe(true);
      const run = await submit("my-app", "take an inventory");
      expect(run.stdout).toContain("tool_call_finished bash ok");
      expect(run.stdout).toContain("(Task received: take an inventory)");
      expect(await edge.stop("SIGINT", 60_000)).toBe(0);
      const agents = JSON.parse((await cli(["--json", "agents", "list"])).stdout);
      expect(agents).toContainEqual(expect.objectContaining({ app: "my-app", status: "offline" }));
    } finally {
      await edge.stop("SIGKILL", 0);
    }
  }, 240_000);

  it("runs a reference application on the stack: edge start --app-dir examples/apps/dea joins it, its roles answer on the scripted model", async () => {
    const edge = spawnManaged(
      "dea",
      process.execPath,
      [BIN, "edge", "start", "--app-dir", join(PROJECT_ROOT, "examples", "apps", "dea")],
      {
        env: {
          ...process.env,
          ...env,
          AURAISON_URL: "",
          AURAISON_KEY: "",
          // No judge model here: its one call fails and the scenario goes on.
          DEA_JUDGE: `127.0.0.1:${await freePort()}`,
        },
      },
    );
    try {
      await until(() => edge.output().includes("connected to central"), 90_000);
      expect(edge.output()).toMatch(/scripted\/dea .*NOT a real model/);
      const run = await submit("dea", "Is REQ-002 (holding force) met, and what is the evidence?");
      expect(run.stdout).toContain("tool_call_finished bash ok");
      expect(run.stdout).toContain("tool_call_finished judge_claim error");
      expect(run.stdout).toContain("tool_call_finished write ok");
      const report = join(home, "edge", "dea", "work", "reports", "REQ-002.md");
      expect(readFileSync(report, "utf8")).toContain("Verdict: partly met");
      expect(await edge.stop("SIGINT", 60_000)).toBe(0);
    } finally {
      await edge.stop("SIGKILL", 0);
    }
  }, 240_000);

  it("stops cleanly on Ctrl-C and resumes with the same state on the next start", async () => {
    const code = await stack!.stop("SIGINT", 60_000);
    expect(code).toBe(0);
    expect(stack!.output()).toContain("stopped.");
    stack = await start();
    expect(stack.output()).not.toContain("admin key (shown once)");
    const runs = JSON.parse((await cli(["--json", "runs", "list"])).stdout);
    expect(runs.map((r: { run_id: string }) => r.run_id)).toContain(runId);
    const again = await cli(["intent", "submit", "--app", "lab-notes", "again", "--wait"]);
    expect(again.code, again.stderr).toBe(0);
    expect(await stack.stop("SIGINT", 60_000)).toBe(0);
    stack = null;
  }, 400_000);
});
