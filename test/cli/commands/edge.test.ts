import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  type EdgeProcess,
  FAUX_EXTENSION,
  readOutbox,
  startEdge,
  until,
} from "../../edge/helpers/edge-process";
import type { FauxStep } from "../../edge/helpers/faux";
import { makeApp, type TestApp } from "../../edge/helpers/runtime";
import { freePort } from "../../helpers/central-dev";
import { runCli } from "../../helpers/cli";

const agents: EdgeProcess[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) if (a.child.exitCode === null) await a.signal("SIGKILL");
});

function edgeRun(app: TestApp, steps: FauxStep[], args: string[]) {
  const script = join(app.stateDir, "..", "run-script.json");
  writeFileSync(script, JSON.stringify({ steps }));
  return runCli(
    [
      "edge",
      "run",
      "--app",
      "lab-notes",
      "--app-dir",
      app.dir,
      "--state",
      app.stateDir,
      "--workdir",
      app.workdir,
      "--model",
      "faux/faux-1",
      "--extension",
      FAUX_EXTENSION,
      ...args,
    ],
    { env: { AURAISON_FAUX_SCRIPT: script }, timeoutMs: 60_000 },
  );
}

describe("auraison edge run", { timeout: 120_000 }, () => {
  it("runs in-process without central, prints the events and the answer, exit 0; events stay in the outbox", async () => {
    const app = makeApp();
    const result = await edgeRun(
      app,
      [{ tool: "bash", args: { command: "echo from the lab" } }, { text: "the lab says hi" }],
      ["say hi"],
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("no running agent for lab-notes: running here (no central)");
    expect(result.stdout).toMatch(/run_started\s+attempt 1 on lab-notes with faux\/faux-1/);
    expect(result.stdout).toMatch(/tool_call_finished bash ok/);
    expect(result.stdout.trimEnd().endsWith("the lab says hi")).toBe(true);
    const outbox = readOutbox(app.stateDir);
    expect(outbox.at(-1)?.kind).toBe("run_completed");
    expect(outbox[0]).toMatchObject({ tenant: "local", source: "edge" });
  });

  it("--json prints one event per line; a failed run exits 1", async () => {
    const app = makeApp();
    const result = await edgeRun(
      app,
      Array.from({ length: 10 }, (_, i) => ({ tool: "bash", args: { command: `echo ${i}` } })),
      ["--json", "work", "--max-tool-calls", "2"],
    );
    expect(result.code).toBe(1);
    const events = result.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(events.at(-1)).toMatchObject({
      kind: "run_failed",
      payload: { error: { reason: "budget_exceeded" } },
    });
  });

  it("exits 1 naming an adapter that cannot start and why, without a stack trace", async () => {
    const app = makeApp({
      adapters: {
        ros: {
          kind: "mcp",
          name: "ros",
          transport: "stdio",
          command: process.execPath,
          args: [
            "-e",
            "console.error(\"ModuleNotFoundError: No module named 'fastmcp'\"); process.exit(1)",
          ],
        },
      },
    });
    const result = await edgeRun(app, [{ text: "never" }], ["hi"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^auraison: adapters failed to start: ros \(mcp\): .*; the server's stderr ends:\nModuleNotFoundError: No module named 'fastmcp'\n$/,
    );
  });

  it("goes through the running agent's socket when there is one", async () => {
    const app = makeApp();
    const steps: FauxStep[] = [{ text: "answered by the agent" }];
    const agent = await startEdge(app, steps);
    agents.push(agent);
    const result = await edgeRun(app, steps, ["ask the agent"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^run [0-9a-f-]{36} on the running agent/m);
    expect(result.stdout.trimEnd().endsWith("answered by the agent")).toBe(true);
    const status = await runCli(["edge", "status", "--app", "lab-notes", "--state", app.stateDir]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain("host-1.lab-notes (app lab-notes, tenant local) degraded");
    expect(status.stdout).toMatch(/completed\s+local/);
  });

  it("cancels a running agent's run", async () => {
    const app = makeApp();
    const agent = await startEdge(app, [
      { tool: "bash", args: { command: "sleep 60" } },
      { text: "late" },
    ]);
    agents.push(agent);
    const { run_id } = await agent.client.startRun({ prompt: "sleep" });
    const cancel = await runCli([
      "edge",
      "cancel",
      "--app",
      "lab-notes",
      "--state",
      app.stateDir,
      "--reason",
      "not needed",
      run_id,
    ]);
    expect(cancel.code, cancel.stderr).toBe(0);
    await until(async () => (await agent.client.run(run_id)).status === "cancelled");
    const unknown = await runCli([
      "edge",
      "cancel",
      "--app",
      "lab-notes",
      "--state",
      app.stateDir,
      run_id,
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("the agent refused to cancel the run:");
    expect(unknown.stderr).toContain("is not running");
    for (const action of ["cancel", "fork"]) {
      const missing = await runCli([
        "edge",
        action,
        "--app",
        "lab-notes",
        "--state",
        app.stateDir,
        "019e807a-ec00-779e-91be-4b28d1f9e695",
      ]);
      // As central's `runs cancel`/`runs fork` of an unknown run.
      expect(missing.code, missing.stderr).toBe(5);
      expect(missing.stderr).toContain(`the agent refused to ${action} the run: no run`);
    }
  });

  it("exits 2 with the reason on bad input", async () => {
    const app = makeApp();
    const badApp = await runCli(["edge", "run", "--app", "Lab Notes", "x"]);
    expect(badApp.code).toBe(2);
    expect(badApp.stderr).toContain("--app 'Lab Notes'");
    const badBudget = await edgeRun(app, [], ["x", "--max-tokens", "many"]);
    expect(badBudget.code).toBe(2);
    expect(badBudget.stderr).toContain("--max-tokens: 'many'");
    const noModel = await runCli([
      "edge",
      "run",
      "--app",
      "lab-notes",
      "--state",
      app.stateDir,
      "x",
    ]);
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toContain("no model");
    writeFileSync(
      join(app.dir, "app.json"),
      JSON.stringify({ policy: { budget: { max_tokens: -5 } } }),
    );
    const badConfig = await edgeRun(app, [], ["x"]);
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toContain("policy.budget.max_tokens");
  });
});

describe("auraison edge start", { timeout: 120_000 }, () => {
  it("refuses a key without a central, a missing app folder, and a second agent on one state dir", async () => {
    const app = makeApp();
    const keyOnly = await runCli(["edge", "start", "--app", "lab-notes", "--key", "aur_agent_x"]);
    expect(keyOnly.code).toBe(2);
    expect(keyOnly.stderr).toContain("without --central");
    const missing = await runCli([
      "edge",
      "start",
      "--app",
      "lab-notes",
      "--app-dir",
      join(app.dir, "nope"),
      "--model",
      "faux/faux-1",
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("does not exist");

    agents.push(await startEdge(app, []));
    const second = await runCli(
      [
        "edge",
        "start",
        "--app",
        "lab-notes",
        "--state",
        app.stateDir,
        "--model",
        "faux/faux-1",
        "--extension",
        FAUX_EXTENSION,
      ],
      { env: { AURAISON_FAUX_SCRIPT: join(app.stateDir, "..", "faux-script.json") } },
    );
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/another edge agent \(pid \d+\) is using/);
  });

  it("runs several agents on one host, one per app", async () => {
    const notes = makeApp();
    const other = makeApp();
    const a = await startEdge(notes, []);
    agents.push(a);
    const b = await startEdge(other, [], []);
    agents.push(b);
    // Standalone agents work on their own: degraded, as `edge status` says.
    expect((await a.client.health()).status).toBe("degraded");
    expect((await b.client.health()).status).toBe("degraded");
    expect(await a.signal("SIGINT")).toBe(0);
    expect((await b.client.health()).status).toBe("degraded");
  });

  it("says degraded while central is unreachable, and takes the app's name from its folder", async () => {
    const app = makeApp({ appJson: { app: "lab-notes" } });
    const dead = `http://127.0.0.1:${await freePort()}`;
    const agent = await startEdge(app, [], ["--central", dead, "--key", "aur_agent_local_x"]);
    agents.push(agent);
    const status = await runCli(["edge", "status", "--app", "lab-notes", "--state", app.stateDir]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(
      /^host-1\.lab-notes \(app lab-notes, tenant local\) degraded, pid \d+$/m,
    );
    expect(status.stdout).toContain(`central: ${dead} not connected`);

    const named = await runCli(["edge", "run", "--app-dir", join(app.dir, "nope"), "hi"]);
    expect(named.code).toBe(2);
    expect(named.stderr).toContain("does not exist");
  });
});

describe("auraison app init", { timeout: 120_000 }, () => {
  it("scaffolds an app folder that runs: its skill's script through its scripted model", async () => {
    const root = mkdtempSync(join(tmpdir(), "auraison-app-init-"));
    const created = await runCli(["app", "init", join(root, "my-app")], { cwd: root });
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain("auraison edge start --app-dir my-app");
    for (const file of [
      "app.json",
      "scripted-model.json",
      "skills/inventory/SKILL.md",
      "skills/inventory/scripts/inventory.sh",
    ])
      expect(existsSync(join(root, "my-app", file)), file).toBe(true);
    writeFileSync(join(root, "notes.txt"), "not in the workdir\n");
    // No --app: the name comes from app.json; the scripted model runs the skill's real script.
    const run = await runCli(
      [
        "edge",
        "run",
        "--app-dir",
        join(root, "my-app"),
        "--state",
        join(root, "state"),
        "--model",
        "scripted/my-app",
        "take an inventory",
      ],
      { timeoutMs: 90_000 },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("NOT a real model");
    expect(run.stdout).toMatch(/tool_call_finished bash ok/);
    expect(run.stdout).toContain("(Task received: take an inventory)");
    const outbox = readOutbox(join(root, "state"));
    const finished = outbox.find((e) => e.kind === "tool_call_finished");
    expect(JSON.stringify(finished?.payload)).toContain("0 file(s)");

    const again = await runCli(["app", "init", join(root, "my-app")]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("not empty");
    const badName = await runCli(["app", "init", join(root, "Bad Name")]);
    expect(badName.code).toBe(2);
  });
});
