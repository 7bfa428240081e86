import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CentralDev,
  createKey,
  createTenant,
  startCentralDev,
} from "../../helpers/central-dev";
import { runCli } from "../../helpers/cli";
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
    timeoutMs: 30_000,
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
    const working = agent
      .next("dispatch", () => true, 20_000)
      .then((d) => agent.complete(d, "3 notes summarised"));
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
    expect(result.stdout).toContain("3 notes summarised");
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
    expect(list.stdout).toMatch(new RegExp(`${runId}\\s+completed\\s+lab-notes-2\\s+notes-2`));
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

    const fork = await cli(["runs", "fork", runId, "--at", "e1"]);
    expect(fork.code, fork.stderr).toBe(0);
    const forkRun = /into run ([0-9a-f-]{36})/.exec(fork.stdout)![1]!;
    const forked = await agent.next("dispatch");
    expect(forked.run_id).toBe(forkRun);
    expect(forked.intent).toMatchObject({ fork_of: { run_id: runId, entry_id: "e1" } });
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
  });

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
