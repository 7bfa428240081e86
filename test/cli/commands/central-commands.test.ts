import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnManaged } from "../../../cli/local-stack/processes";
import type { Approval } from "../../../contract";
import { until } from "../../edge/helpers/edge-process";
import {
  type CentralDev,
  createKey,
  createTenant,
  startCentralDev,
} from "../../helpers/central-dev";
import { BIN, runCli } from "../../helpers/cli";
import { ScriptedAgent } from "../../helpers/scripted-agent";

/** The CLI commands that talk to central, against the real central under wrangler dev. */
let central: CentralDev;
let admin: string;
let agentKey: string;
const home = mkdtempSync(join(tmpdir(), "auraison-cli-central-"));

beforeAll(async () => {
  central = await startCentralDev();
  admin = await createTenant(central.url, central.bootstrapKey, "cli");
  agentKey = await createKey(central.url, admin, "agent", "edge");
}, 120_000);
afterAll(async () => {
  await central?.stop();
});

const cli = (args: string[], key = admin) =>
  runCli(args, {
    env: { AURAISON_HOME: home, AURAISON_URL: central.url, AURAISON_KEY: key },
    timeoutMs: 60_000,
  });

describe("auraison keys", () => {
  it("creates, lists and revokes keys; the secret is shown once", async () => {
    const created = await cli([
      "keys",
      "create",
      "--role",
      "agent",
      "--name",
      "lab-1",
      "--app",
      "lab-notes",
    ]);
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.split("\n")[1]!;
    expect(key).toMatch(/^aur_agent_cli_/);
    const id = /created agent key (key_\w+)/.exec(created.stdout)![1]!;
    const list = await cli(["--json", "keys", "list"]);
    const keys = JSON.parse(list.stdout) as {
      id: string;
      app: string | null;
      revoked_at: string | null;
    }[];
    expect(keys.find((k) => k.id === id)).toMatchObject({ app: "lab-notes", revoked_at: null });
    expect(list.stdout).not.toContain(key);
    const revoked = await cli(["keys", "revoke", id]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(id);
    const denied = await cli(["agents", "list"], key);
    expect(denied.code).toBe(4);
    expect(denied.stderr).toContain("401");
  });

  it("exits 4 for a role that may not, and 2 when central refuses the input", async () => {
    const viewer = await createKey(central.url, admin, "viewer", "viewer");
    const forbidden = await cli(["keys", "list"], viewer);
    expect(forbidden.code).toBe(4);
    expect(forbidden.stderr).toContain("403 forbidden");
    const refused = await cli([
      "keys",
      "create",
      "--role",
      "viewer",
      "--name",
      "v",
      "--app",
      "lab-notes",
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("app");
  });
});

describe("auraison intent, runs and agents", () => {
  it("submits an intent and --wait streams its run to the end, exiting 0", async () => {
    const agent = await ScriptedAgent.connect(central.url, agentKey, "cli", "notes-1");
    // Longer than an event line shows: --wait ends with the whole of it.
    const answer = `3 notes summarised: ${"the spectrometer was recalibrated, ".repeat(6)}end.`;
    const working = agent
      .next("dispatch", () => true, 20_000)
      .then((d) => agent.complete(d, answer));
    const result = await cli([
      "intent",
      "submit",
      "--app",
      "lab-notes",
      "summarise today's notes",
      "--wait",
    ]);
    await working;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^run [0-9a-f-]{36} \(intent [0-9a-f-]{36}\)/);
    expect(result.stdout).toContain("run_dispatched");
    expect(result.stdout).toContain("run_completed");
    expect(result.stdout).toMatch(/run_completed +\[e1\] .*…$/m);
    expect(result.stdout.trimEnd().endsWith(`\n\n${answer}`)).toBe(true);
    const agents = await cli(["agents", "list"]);
    expect(agents.stdout).toMatch(/notes-1\s+lab-notes\s+online/);
    await agent.close();
  });

  it("lists, shows, prints events of, cancels and forks runs", async () => {
    const agent = await ScriptedAgent.connect(central.url, agentKey, "cli", "notes-2", {
      app: "lab-notes-2",
    });
    const submitted = await cli([
      "--json",
      "intent",
      "submit",
      "--app",
      "lab-notes-2",
      "first",
      "--idempotency-key",
      "cli-first",
    ]);
    expect(submitted.code, submitted.stderr).toBe(0);
    const accepted = JSON.parse(submitted.stdout) as {
      run: { run_id: string };
      duplicate: boolean;
    };
    const again = await cli([
      "intent",
      "submit",
      "--app",
      "lab-notes-2",
      "first",
      "--idempotency-key",
      "cli-first",
    ]);
    expect(again.stdout).toContain("already submitted");
    await agent.complete(await agent.next("dispatch"), "first done");
    const runId = accepted.run.run_id;

    const list = await cli(["runs", "list", "--app", "lab-notes-2"]);
    expect(list.stdout).toMatch(
      new RegExp(`${runId}\\s+completed\\s+lab-notes-2\\s+app lab-notes-2\\s+notes-2`),
    );
    const show = await cli(["runs", "show", runId]);
    expect(JSON.parse(show.stdout)).toMatchObject({
      run_id: runId,
      status: "completed",
      result: "first done",
    });
    const events = await cli(["runs", "events", runId]);
    expect(
      events.stdout
        .trim()
        .split("\n")
        .map((l) => l.split(/\s+/)[2]),
    ).toEqual(["run_dispatched", "run_started", "message", "run_completed"]);
    const followed = await cli(["runs", "events", runId, "--follow"]);
    expect(followed.code).toBe(0);
    expect(followed.stdout).toContain("run_completed");

    // The entries `--at` takes are on the event lines; one the run never had is refused now.
    expect(events.stdout).toMatch(/message +\[e1\] assistant: first done/);
    const wrong = await cli(["runs", "fork", runId, "--at", "e9"]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(`run ${runId} has no session entry e9`);
    const fork = await cli(["runs", "fork", runId, "try it another way", "--at", "e1"]);
    expect(fork.code, fork.stderr).toBe(0);
    const forkRun = /into run ([0-9a-f-]{36})/.exec(fork.stdout)![1]!;
    const forked = await agent.next("dispatch");
    expect(forked.run_id).toBe(forkRun);
    expect(forked.intent).toMatchObject({
      fork_of: { run_id: runId, entry_id: "e1" },
      params: { prompt: "try it another way" },
    });
    await agent.take(forked);
    const cancelled = await cli(["runs", "cancel", forkRun, "--reason", "enough"]);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toMatch(/cancelled/);
    expect((await agent.next("cancel")).reason).toBe("enough");
    const waitCancelled = await cli(["runs", "events", forkRun, "--follow"]);
    expect(waitCancelled.stdout).toContain("run_cancelled");
    const again2 = await cli(["runs", "cancel", forkRun]);
    expect(again2.code).toBe(2);
    expect(again2.stderr).toContain("409");
    const missing = await cli(["runs", "show", "01900000-0000-7000-8000-000000000000"]);
    expect(missing.code).toBe(5);
    await agent.close();
  }, 120_000);

  it("--wait exits 1 when the run fails", async () => {
    const agent = await ScriptedAgent.connect(central.url, agentKey, "cli", "notes-3", {
      app: "lab-notes-3",
    });
    const failing = agent
      .next("dispatch", () => true, 20_000)
      .then(async (d) => {
        const run = await agent.take(d);
        await agent.emit([
          agent.event(
            "run_failed",
            {
              error: { category: "policy", reason: "tool_denied", message: "not allowed" },
              usage: { tokens_in: 0, tokens_out: 0, cost_usd: 0 },
              duration_ms: 1,
              tree_ref: null,
            },
            run,
          ),
        ]);
      });
    const result = await cli([
      "intent",
      "submit",
      "--app",
      "lab-notes-3",
      "do a forbidden thing",
      "--wait",
    ]);
    await failing;
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("tool_denied");
    await agent.close();
  });
});

describe("the first hour: what a new user runs into", { timeout: 120_000 }, () => {
  const env = () => ({
    ...process.env,
    AURAISON_HOME: home,
    AURAISON_URL: central.url,
    AURAISON_KEY: admin,
  });

  it("says at submit when nothing online serves the target and what does; pending runs show their target; --wait says what it waits for", async () => {
    const agent = await ScriptedAgent.connect(central.url, agentKey, "cli", "notes-4", {
      app: "lab-notes-4",
    });
    const typo = await cli(["intent", "submit", "--app", "lab-notes-44", "summarise"]);
    expect(typo.code, typo.stderr).toBe(0);
    expect(typo.stderr).toMatch(
      /^note: nothing online serves app lab-notes-44 \(online: .*app lab-notes-4 on notes-4.*\); it stays queued until one does$/m,
    );
    const runId = /run ([0-9a-f-]{36}) \(pending\)/.exec(typo.stdout)![1]!;
    const pending = JSON.parse(
      (await cli(["--json", "runs", "list", "--status", "pending"])).stdout,
    );
    expect(pending.find((r: { run_id: string }) => r.run_id === runId)).toMatchObject({
      app: null,
      targets: [{ app: "lab-notes-44" }],
    });
    const table = await cli(["runs", "list", "--status", "pending"]);
    expect(table.stdout).toMatch(new RegExp(`${runId}\\s+pending\\s+-\\s+app lab-notes-44\\s`));

    const waiting = spawnManaged(
      "wait",
      process.execPath,
      [BIN, "intent", "submit", "--app", "lab-notes-44", "again", "--wait"],
      { env: env() },
    );
    try {
      await until(() => waiting.output().includes("the run stays queued"), 30_000);
      expect(waiting.output()).toMatch(
        /note: nothing online serves app lab-notes-44 .*; waiting for one; Ctrl-C stops waiting/,
      );
    } finally {
      await waiting.stop("SIGINT", 5_000);
    }

    const intentId = /intent ([0-9a-f-]{36})/.exec(typo.stdout)![1]!;
    const intents = JSON.parse(
      (await cli(["--json", "intent", "list", "--status", "queued"])).stdout,
    );
    expect(
      intents.find((i: { intent: { intent_id: string } }) => i.intent.intent_id === intentId),
    ).toMatchObject({ status: "queued", run: { run_id: runId, status: "pending" } });
    const listed = await cli(["intent", "list"]);
    expect(listed.stdout).toMatch(
      new RegExp(`${intentId}\\s+queued\\s+task\\s+app lab-notes-44\\s+${runId}\\s+pending`),
    );
    const shown = await cli(["intent", "show", intentId]);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      intent: {
        intent_id: intentId,
        targets: [{ app: "lab-notes-44" }],
        params: { prompt: "summarise" },
      },
      status: "queued",
      run: { run_id: runId },
    });
    expect((await cli(["intent", "show", "01900000-0000-7000-8000-000000000000"])).code).toBe(5);
    await agent.close();
  });

  it("prints the tenant's log, a page or live from now on", async () => {
    const all = (await cli(["--json", "events", "--limit", "100000"])).stdout.trim().split("\n");
    const last = JSON.parse(all.at(-1)!).cursor as number;
    const page = await cli(["events", "--limit", "2"]);
    expect(page.stdout.trim().split("\n")).toHaveLength(2);
    expect(page.stdout).toMatch(/^ +1 [0-9a-f-]{36} /);
    expect(page.stderr).toContain("more: auraison events --after 2");
    const failures = await cli(["events", "--kind", "run_failed"]);
    expect(
      failures.stdout
        .trim()
        .split("\n")
        .every((l) => l.includes("run_failed")),
    ).toBe(true);

    const agent = await ScriptedAgent.connect(central.url, agentKey, "cli", "notes-5", {
      app: "lab-notes-5",
    });
    const follow = spawnManaged("events", process.execPath, [BIN, "events", "--follow"], {
      env: env(),
    });
    try {
      // Until the follower is connected, nudge the log: an agent-level event each time.
      await until(async () => {
        await agent.emit([
          agent.event("heartbeat", {
            status: "online",
            running: [],
            outbox_pending: 0,
            load: null,
          }),
        ]);
        if (follow.output().includes("heartbeat")) return true;
        await new Promise((r) => setTimeout(r, 300));
        return false;
      }, 30_000);
      const first = Number(follow.output().trim().split("\n")[0]!.trim().split(/\s+/)[0]);
      expect(first).toBeGreaterThan(last);
      expect(follow.output()).toMatch(/^ *\d+ - +\S+ notes-5 +heartbeat +online, 0 running/m);
    } finally {
      await follow.stop("SIGINT", 5_000);
      await agent.close();
    }
  });

  it("shows the audit log and the settings, and applies a settings file (admin)", async () => {
    const audit = await cli(["audit", "--limit", "3"]);
    expect(audit.code, audit.stderr).toBe(0);
    expect(audit.stdout).toMatch(/^ID +AT +PRINCIPAL +ROLE +ACTION +TARGET +OUTCOME +STATUS$/m);
    expect(audit.stderr).toMatch(/older entries: auraison audit --before \d+/);
    const entries = JSON.parse((await cli(["--json", "audit", "--limit", "500"])).stdout);
    expect(entries.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(["intents.submit", "agents.register", "keys.create"]),
    );
    const viewer = await createKey(central.url, admin, "viewer", "auditor");
    expect((await cli(["audit"], viewer)).code).toBe(4);

    const file = join(home, "settings.json");
    writeFileSync(file, JSON.stringify({ retry: { max_attempts: 5 } }));
    const applied = await cli(["settings", "apply", file]);
    expect(applied.code, applied.stderr).toBe(0);
    const shown = JSON.parse((await cli(["settings", "show"])).stdout);
    expect(shown).toMatchObject({ retry: { max_attempts: 5 }, heartbeat: { interval_ms: 30000 } });
    writeFileSync(file, JSON.stringify({ retry: { max_attempts: "many" } }));
    const bad = await cli(["settings", "apply", file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("retry.max_attempts");
    expect((await cli(["settings", "show"], viewer)).code).toBe(4);
  });
});

describe("keys from a file", () => {
  it("--key-file authenticates every command without the key on the command line", async () => {
    const file = join(home, "viewer.key");
    writeFileSync(file, `${await createKey(central.url, admin, "viewer", "from-file")}\n`, {
      mode: 0o600,
    });
    const listed = await runCli(["--json", "agents", "list", "--key-file", file], {
      env: { AURAISON_HOME: home, AURAISON_URL: central.url, AURAISON_KEY: "" },
      timeoutMs: 30_000,
    });
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toBeInstanceOf(Array);
    // A viewer key it is: it may not create keys.
    const refused = await runCli(
      ["keys", "create", "--role", "viewer", "--name", "x", "--key-file", file],
      {
        env: { AURAISON_HOME: home, AURAISON_URL: central.url, AURAISON_KEY: admin },
        timeoutMs: 30_000,
      },
    );
    expect(refused.code).toBe(4);
  });
});

describe("auraison plan and approvals", () => {
  it("submits a cross-app plan behind an approval, --wait follows it to the end; show draws the graph", async () => {
    const notes = await ScriptedAgent.connect(central.url, agentKey, "cli", "plan-notes-1", {
      app: "plan-notes",
    });
    const sim = await ScriptedAgent.connect(central.url, agentKey, "cli", "plan-sim-1", {
      app: "plan-sim",
    });
    const steps = join(home, "steps.json");
    writeFileSync(
      steps,
      JSON.stringify([
        { id: "measure", targets: [{ app: "plan-notes" }], params: { prompt: "measure" } },
        { id: "simulate", targets: [{ app: "plan-sim" }], params: { prompt: "simulate" } },
        {
          id: "compare",
          targets: [{ app: "plan-sim" }],
          params: { prompt: "compare" },
          depends_on: ["measure", "simulate"],
          inputs: { measured: { step: "measure" } },
        },
      ]),
    );
    const waiting = cli([
      "plan",
      "submit",
      "measure and compare",
      "--steps",
      steps,
      "--approve-before-start",
      "--wait",
    ]);
    const pending = await until(async () => {
      const listed = await cli(["--json", "approvals", "list"]);
      return (JSON.parse(listed.stdout) as Approval[])[0];
    });
    expect(pending).toMatchObject({ status: "pending", step_id: null });
    const approved = await cli(["approvals", "approve", pending.approval_id, "--reason", "go"]);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toMatch(/approved/);
    await notes.complete(await notes.next("dispatch", () => true, 20_000), "42");
    await sim.complete(await sim.next("dispatch", () => true, 20_000), "41.5");
    const compare = await sim.next("dispatch", () => true, 20_000);
    expect((compare.intent as { params: unknown }).params).toEqual({
      prompt: "compare",
      measured: "42",
    });
    await sim.complete(compare, "close");
    const done = await waiting;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stderr).toContain(`auraison approvals approve ${pending.approval_id}`);
    expect(done.stdout).toMatch(/plan awaiting_approval/);
    expect(done.stdout).toMatch(/step compare completed/);
    expect(done.stdout).toMatch(/layer 1 \(2 in parallel\)/);
    const planId = /^plan ([0-9a-f-]{36})$/m.exec(done.stdout)![1]!;
    const shown = await cli(["plan", "show", planId]);
    expect(shown.stdout).toContain(`plan ${planId}  completed  (given, version 1)`);
    expect(shown.stdout).toMatch(
      /layer 2\n {2}✓ compare +completed +app plan-sim +after measure, simulate +takes measured<-measure/,
    );
    expect(shown.stdout).toContain("= close");
    const list = await cli(["plan", "list"]);
    expect(list.stdout).toMatch(new RegExp(`${planId}\\s+completed\\s+given\\s+1\\s+3/3`));
    const audit = await cli(["--json", "audit", "--limit", "20"]);
    expect(audit.stdout).toContain("approvals.approve");
    await notes.close();
    await sim.close();
  });

  it("pauses, resumes and cancels a plan; rejects an approval; refuses bad input with exit 2", async () => {
    const notes = await ScriptedAgent.connect(central.url, agentKey, "cli", "plan-notes-2", {
      app: "plan-notes-2",
    });
    const steps = join(home, "two.json");
    writeFileSync(
      steps,
      JSON.stringify([
        { id: "one", targets: [{ app: "plan-notes-2" }] },
        { id: "two", targets: [{ app: "plan-notes-2" }], depends_on: ["one"] },
      ]),
    );
    const submitted = await cli(["plan", "submit", "two steps", "--steps", steps]);
    expect(submitted.code, submitted.stderr).toBe(0);
    const planId = /plan ([0-9a-f-]{36}) \(running\)/.exec(submitted.stdout)![1]!;
    expect((await cli(["plan", "pause", planId])).stdout).toMatch(/paused/);
    const again = await cli(["plan", "pause", planId]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain("409");
    expect((await cli(["plan", "resume", planId])).stdout).toMatch(/running/);
    expect((await cli(["plan", "cancel", planId, "--reason", "enough"])).stdout).toMatch(
      /cancelled/,
    );
    const gated = await cli([
      "--json",
      "plan",
      "submit",
      "gated",
      "--steps",
      steps,
      "--approve-before-start",
    ]);
    const approval = (JSON.parse(gated.stdout) as { plan: { approval: Approval } }).plan.approval;
    const rejected = await cli(["approvals", "reject", approval.approval_id, "--reason", "no"]);
    expect(rejected.stdout).toMatch(/rejected/);
    const decided = await cli(["approvals", "list", "--status", "rejected"]);
    expect(decided.stdout).toContain(approval.approval_id);
    const bad = await cli(["plan", "submit", "x", "--steps", steps, "--pddl-problem", steps]);
    expect(bad.code).toBe(2);
    const cycle = join(home, "cycle.json");
    writeFileSync(
      cycle,
      JSON.stringify([
        { id: "a", targets: [{ app: "plan-notes-2" }], depends_on: ["b"] },
        { id: "b", targets: [{ app: "plan-notes-2" }], depends_on: ["a"] },
      ]),
    );
    const refused = await cli(["plan", "submit", "loop", "--steps", cycle]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/cycle/);
    await notes.close();
  });
});
