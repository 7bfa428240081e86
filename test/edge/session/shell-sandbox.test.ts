import { execFileSync, spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { AgentEvent } from "../../../contract";
import type { EdgeRuntime, EdgeRuntimeOptions } from "../../../edge/runtime";
import { prepareShellSandbox, sandboxed } from "../../../edge/session/shell-sandbox";
import { WithheldPaths, WorkdirError } from "../../../edge/withheld-paths";
import { runCli } from "../../helpers/cli";
import { type EdgeProcess, startEdge } from "../helpers/edge-process";
import { makeApp, ofKind, openRuntime, runTask, type TestApp } from "../helpers/runtime";

/**
 * The model's shell runs in bubblewrap (edge/session/shell-sandbox.ts): it does not see the
 * agent's processes (whose /proc/<pid>/environ keeps a key the agent deleted from its
 * environment), the agent's state, its home or its key files; it does see and write the
 * workdir. Each test shows the same command reaching the secret with `--shell-sandbox off`, so
 * it is the sandbox that keeps it out.
 */

const running: EdgeProcess[] = [];
let runtime: EdgeRuntime | undefined;
afterEach(async () => {
  for (const p of running.splice(0)) if (p.child.exitCode === null) await p.signal("SIGKILL");
  await runtime?.close();
  runtime = undefined;
});

const FALLBACK_KEY = "ollama-fallback-Zq8Xw2Lm5Nv7Rt4Yp1Hs";
const ADMIN_KEY = "aur_admin_lab_Kd9Fj3Lq7Wm2Xn5Pz8Rt1Vy4Bc6Hg0Ja";
const FILED_KEY = "vllm-filed-Pw3Jk8Qs1Dx6Fn4Lb9Tz";
const reversed = (s: string) => [...s].reverse().join("");

/**
 * Every environment a process visible to the shell started with, the agent's included (`[_]`:
 * the command, which a process's environment may hold, does not match itself).
 */
const SCAN_ENVIRONS = `for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < "$f"; done 2>/dev/null | grep -a "FALLBACK[_]KEY=" | rev; echo scanned`;

async function shellSees(mode: "auto" | "off"): Promise<{ results: string[]; workdir: string }> {
  const app = makeApp();
  const home = mkdtempSync(join(tmpdir(), "edge-home-"));
  mkdirSync(join(home, "keys"));
  const adminFile = join(home, "keys", "admin.key");
  writeFileSync(adminFile, ADMIN_KEY, { mode: 0o600 });
  const keyFile = join(mkdtempSync(join(tmpdir(), "edge-keys-")), "fallback.key");
  writeFileSync(keyFile, FILED_KEY, { mode: 0o600 });
  const edge = await startEdge(
    app,
    [
      { tool: "bash", args: { command: SCAN_ENVIRONS } },
      {
        tool: "bash",
        args: { command: `cat ${adminFile} ${keyFile} 2>/dev/null | rev; ls -A ${app.stateDir}` },
      },
      { tool: "bash", args: { command: "echo made > made.txt; pwd" } },
      { text: "done" },
    ],
    [
      "--fallback-base-url",
      "http://127.0.0.1:9/v1",
      "--fallback-model",
      "local",
      "--fallback-key-file",
      keyFile,
      "--shell-sandbox",
      mode,
    ],
    { AURAISON_FALLBACK_KEY: FALLBACK_KEY, AURAISON_HOME: home },
  );
  running.push(edge);
  const record = await edge.client.startRun({ prompt: "look around" });
  const events: AgentEvent[] = [];
  await edge.client.follow(record.run_id, (e) => events.push(e));
  const finished = ofKind(events, "tool_call_finished").map((e) => e.payload);
  expect(finished.map((p) => p.status)).toEqual(["ok", "ok", "ok"]);
  expect(edge.output()).not.toContain("SHELL: ");
  return { results: finished.map((p) => String(p.result)), workdir: app.workdir };
}

/** The pids of processes whose command line holds `pattern`. */
function alive(pattern: string): string {
  try {
    return execFileSync("pgrep", ["-f", pattern], { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
}

/** Polls `done` for up to 5 s: a killed process leaves the table when it is reaped. */
async function settled(done: () => boolean): Promise<void> {
  for (let i = 0; i < 50 && !done(); i++) await new Promise((r) => setTimeout(r, 100));
}

/**
 * Runs `args` through the model's bash once, in bubblewrap (`overrides` on top), `before` just
 * ahead of the run: the call's tool_call_finished payload.
 */
async function inSandbox(
  app: TestApp,
  args: { command: string; timeout?: number },
  overrides: Partial<EdgeRuntimeOptions> = {},
  before: () => void = () => undefined,
) {
  runtime = await openRuntime(app, [{ tool: "bash", args }, { text: "done" }], {
    shellSandbox: "bwrap",
    ...overrides,
  });
  expect(runtime.shellSandbox.kind).toBe("bwrap");
  before();
  const { events } = await runTask(runtime, "run it");
  return ofKind(events, "tool_call_finished")[0]!.payload;
}

/** A home directory outside any app, its local.json holding the admin key. */
function homeWithAdminKey(): string {
  const home = join(mkdtempSync(join(tmpdir(), "edge-home-")), "home");
  mkdirSync(home);
  writeFileSync(join(home, "local.json"), ADMIN_KEY);
  return home;
}

/** The path guard's decisions in a run's events, in order. */
function pathGuard(events: AgentEvent[]) {
  return ofKind(events, "policy_decision")
    .map((e) => e.payload.decision)
    .filter((d) => d.rule_id === "path_guard");
}

/** `auraison edge start` for `app`, with a model it never calls (the tests stop before a run). */
const edgeStart = (app: TestApp) => [
  "edge",
  "start",
  "--app",
  "lab-notes",
  "--app-dir",
  app.dir,
  "--model",
  "openai/gpt-5",
];

describe("the model's shell sandbox", { timeout: 120_000 }, () => {
  it("keeps the agent's processes, state, home and keys out of the shell, and the workdir in", async () => {
    const { results, workdir } = await shellSees("auto");
    const [environs, files, work] = results;
    expect(environs!.trim()).toBe("scanned");
    expect(files).not.toContain(reversed(ADMIN_KEY));
    expect(files).not.toContain(reversed(FILED_KEY));
    // The state directory (outbox, run records, the control socket) is empty to the shell.
    expect(files!.trim()).toBe("(no output)");
    expect(work!.trim()).toBe(workdir);
    expect(readFileSync(join(workdir, "made.txt"), "utf8")).toBe("made\n");
  });

  it("is what keeps them out: unconfined, the same commands reach them", async () => {
    const { results, workdir } = await shellSees("off");
    const [environs, files, work] = results;
    expect(environs).toContain(reversed(`AURAISON_FALLBACK_KEY=${FALLBACK_KEY}`));
    expect(files).toContain(reversed(ADMIN_KEY));
    expect(files).toContain(reversed(FILED_KEY));
    expect(files).toContain("outbox");
    expect(work!.trim()).toBe(workdir);
    expect(readFileSync(join(workdir, "made.txt"), "utf8")).toBe("made\n");
  });

  it("writes the workdir inside the hidden state directory", async () => {
    const app = makeApp();
    const listed = await inSandbox(
      app,
      { command: "echo kept > kept.txt && ls -A .. && pwd" },
      { workdir: join(app.stateDir, "work") },
    );
    // Beside the workdir, the state directory shows nothing: it is the sandbox's empty mount.
    expect(String(listed.result).trim().split("\n")).toEqual(["work", join(app.stateDir, "work")]);
    expect(readFileSync(join(app.stateDir, "work", "kept.txt"), "utf8")).toBe("kept\n");
  });

  it("ends what a command started when its timeout kills it", async () => {
    const marker = `${Date.now() % 100_000}.25`;
    const finished = await inSandbox(makeApp(), {
      command: `sleep ${marker} & sleep ${marker}`,
      timeout: 1,
    });
    expect(finished.status).toBe("error");
    await settled(() => alive(`sleep ${marker}`) === "");
    expect(alive(`sleep ${marker}`)).toBe("");
  });

  it("ends a process a command leaves in the background when the command ends", async () => {
    const marker = `${(Date.now() % 100_000) + 1}.75`;
    const finished = await inSandbox(makeApp(), {
      command: `nohup sleep ${marker} >/dev/null 2>&1 & echo left`,
    });
    expect(finished.status).toBe("ok");
    await settled(() => alive(`sleep ${marker}`) === "");
    expect(alive(`sleep ${marker}`)).toBe("");
  });

  it("leaves the shell no capability to unmount what hides (an agent run as root)", async () => {
    const app = makeApp();
    const finished = await inSandbox(app, {
      command: `umount ${app.stateDir} 2>/dev/null; umount -l /proc 2>/dev/null; ls -A ${app.stateDir}; grep CapEff /proc/self/status`,
    });
    expect(String(finished.result).trim()).toBe("CapEff:\t0000000000000000");
  });

  it("hides a withheld path made after the agent started, and makes none it deleted", async () => {
    const dir = mkdtempSync(join(tmpdir(), "edge-withheld-"));
    const later = join(dir, "home");
    const keyFile = join(dir, "agent.key");
    writeFileSync(keyFile, ADMIN_KEY);
    const finished = await inSandbox(
      makeApp(),
      { command: `cat ${later}/local.json 2>&1 | rev; ls ${dir}` },
      { withheld: [later, keyFile] },
      () => {
        mkdirSync(later);
        writeFileSync(join(later, "local.json"), ADMIN_KEY);
        rmSync(keyFile);
      },
    );
    expect(finished.result).not.toContain(reversed(ADMIN_KEY));
    expect(finished.result).toContain(reversed("No such file or directory"));
    expect(existsSync(keyFile)).toBe(false);
  });

  it("follows a withheld path the shell moved, or whose symlink it swapped", async () => {
    const app = makeApp();
    const dir = mkdtempSync(join(tmpdir(), "edge-moved-"));
    mkdirSync(join(dir, "keys"));
    writeFileSync(join(dir, "keys", "agent.key"), ADMIN_KEY);
    mkdirSync(join(dir, "real-home"));
    writeFileSync(join(dir, "real-home", "local.json"), FILED_KEY);
    symlinkSync(join(dir, "real-home"), join(dir, "home"));
    runtime = await openRuntime(
      app,
      [
        {
          tool: "bash",
          args: {
            command: `mv ${dir}/keys ${dir}/moved && ln -sfn /nonexistent ${dir}/home && echo moved`,
          },
        },
        {
          tool: "bash",
          args: { command: `cat ${dir}/moved/agent.key ${dir}/real-home/local.json 2>&1 | rev` },
        },
        { text: "done" },
      ],
      { shellSandbox: "bwrap", withheld: [join(dir, "keys", "agent.key"), join(dir, "home")] },
    );
    const { events } = await runTask(runtime, "move them");
    const [moved, read] = ofKind(events, "tool_call_finished").map((e) => String(e.payload.result));
    expect(moved!.trim()).toBe("moved");
    expect(read).not.toContain(reversed(ADMIN_KEY));
    expect(read).not.toContain(reversed(FILED_KEY));
  });

  it("keeps the file tools out of a withheld path moved into the workdir", async () => {
    const app = makeApp();
    const home = homeWithAdminKey();
    runtime = await openRuntime(
      app,
      [
        { tool: "read", args: { path: "moved/local.json" } },
        { tool: "write", args: { path: "moved/planted.txt", content: "x" } },
        { text: "done" },
      ],
      { withheld: [home], shellSandbox: "off" },
    );
    renameSync(home, join(app.workdir, "moved"));
    const { events } = await runTask(runtime, "read it");
    const guard = pathGuard(events);
    expect(guard.map((d) => d.effect)).toEqual(["deny", "deny"]);
    expect(guard[0]!.reason).toContain("which the agent withholds from the model");
    expect(existsSync(join(app.workdir, "moved", "planted.txt"))).toBe(false);
  });

  it("leaves the file tools the default workdir, inside the withheld state", async () => {
    const app = makeApp();
    runtime = await openRuntime(
      app,
      [
        { tool: "write", args: { path: "a.txt", content: "kept" } },
        { tool: "read", args: { path: "a.txt" } },
        { tool: "grep", args: { pattern: "kept", path: "." } },
        { tool: "read", args: { path: "../outbox" } },
        { text: "done" },
      ],
      { workdir: join(app.stateDir, "work"), shellSandbox: "bwrap" },
    );
    const { events } = await runTask(runtime, "write and read");
    expect(pathGuard(events).map((d) => d.effect)).toEqual(["allow", "allow", "allow", "deny"]);
    expect(readFileSync(join(app.stateDir, "work", "a.txt"), "utf8")).toBe("kept");
  });

  it("keeps grep from searching a directory that holds a withheld path", async () => {
    const app = makeApp();
    const home = homeWithAdminKey();
    runtime = await openRuntime(
      app,
      [
        { tool: "grep", args: { pattern: "aur_admin", path: "." } },
        { tool: "grep", args: { pattern: "aur_admin", path: "parent" } },
        { text: "done" },
      ],
      { withheld: [home], shellSandbox: "off" },
    );
    mkdirSync(join(app.workdir, "parent"));
    renameSync(home, join(app.workdir, "parent", "home"));
    const { events } = await runTask(runtime, "search");
    expect(pathGuard(events).map((d) => d.effect)).toEqual(["deny", "deny"]);
  });

  it("opens with a withheld FIFO without waiting for a writer", () => {
    const dir = mkdtempSync(join(tmpdir(), "edge-fifo-"));
    const fifo = join(dir, "agent.key");
    execFileSync("mkfifo", [fifo]);
    // In a child process: an open that waits for a writer would block this one's event loop,
    // and the test would hang rather than fail.
    const module = (name: string) => JSON.stringify(new URL(name, import.meta.url).href);
    const script = `
      const { WithheldPaths } = await import(${module("../../../edge/withheld-paths.ts")});
      const { prepareShellSandbox } = await import(${module("../../../edge/session/shell-sandbox.ts")});
      const withheld = WithheldPaths.open([${JSON.stringify(fifo)}]);
      const sandbox = prepareShellSandbox("bwrap", { workdir: ${JSON.stringify(dir)}, withheld });
      console.log(JSON.stringify({ kind: sandbox.kind, hidden: withheld.current() }));`;
    const child = spawnSync(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "--eval", script],
      { encoding: "utf8", timeout: 30_000 },
    );
    expect(child.signal, "the child waited for a writer").toBeNull();
    expect(child.stderr).toBe("");
    expect(JSON.parse(child.stdout)).toEqual({
      kind: "bwrap",
      hidden: [{ path: realpathSync(fifo), dir: false }],
    });
  });

  it("runs the command in the workdir, a name beginning with `..` too", async () => {
    const app = makeApp();
    const workdir = join(app.stateDir, "..work");
    const finished = await inSandbox(app, { command: "echo here > here.txt; pwd" }, { workdir });
    expect(String(finished.result).trim()).toBe(workdir);
    expect(readFileSync(join(workdir, "here.txt"), "utf8")).toBe("here\n");
  });

  it("runs a command as long as unconfined bash takes, its quotes untouched", async () => {
    const finished = await inSandbox(makeApp(), {
      command: `printf '%s\n' ${"'x' ".repeat(30_000)}| wc -l`,
    });
    expect(finished).toMatchObject({ status: "ok" });
    expect(String(finished.result).trim()).toBe("30000");
  });

  it("passes the shell no descriptor the agent inherited open", async () => {
    const dir = mkdtempSync(join(tmpdir(), "edge-fd-"));
    const keyFile = join(dir, "agent.key");
    writeFileSync(keyFile, ADMIN_KEY);
    const withheld = WithheldPaths.open([keyFile]);
    const sandbox = prepareShellSandbox("bwrap", { workdir: dir, withheld });
    const context = sandboxed(sandbox, {
      command: "cat <&3 | rev; ls /proc/self/fd",
      env: { PATH: process.env.PATH },
    });
    const fd = openSync(keyFile, "r");
    try {
      const run = spawnSync("/bin/bash", ["-c", context.command], {
        env: context.env,
        cwd: dir,
        stdio: ["ignore", "pipe", "pipe", fd],
        encoding: "utf8",
      });
      expect(run.stdout).not.toContain(reversed(ADMIN_KEY));
      expect(run.stderr).toContain("Bad file descriptor");
      // Unconfined, the same command reads it.
      const open = spawnSync("/bin/bash", ["-c", "cat <&3 | rev"], {
        stdio: ["ignore", "pipe", "pipe", fd],
        encoding: "utf8",
      });
      expect(open.stdout).toContain(reversed(ADMIN_KEY));
    } finally {
      closeSync(fd);
      withheld.close();
    }
  });

  it("refuses a workdir that holds the agent's state, home or a key file", async () => {
    const app = makeApp();
    await expect(openRuntime(app, [], { workdir: app.stateDir })).rejects.toThrow(WorkdirError);
    await expect(openRuntime(app, [], { workdir: join(app.stateDir, "..") })).rejects.toThrow(
      /holds .*state, which the model's tools must not reach/,
    );
    const home = join(app.workdir, ".auraison");
    await expect(openRuntime(app, [], { withheld: [home] })).rejects.toThrow(WorkdirError);
    expect(existsSync(join(app.stateDir, "outbox"))).toBe(false);

    const cli = await runCli([
      ...edgeStart(app),
      "--state",
      join(app.workdir, "state"),
      "--workdir",
      app.workdir,
    ]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain(`the workdir ${app.workdir} holds ${join(app.workdir, "state")}`);
  });

  it("refuses to start with --shell-sandbox bwrap where bubblewrap cannot run", async () => {
    const app = makeApp();
    const start = edgeStart(app);
    const noBwrap = { PATH: mkdtempSync(join(tmpdir(), "no-bwrap-")), AURAISON_HOME: app.stateDir };
    const result = await runCli([...start, "--state", app.stateDir, "--shell-sandbox", "bwrap"], {
      env: noBwrap,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "--shell-sandbox bwrap: bwrap is not on PATH (install bubblewrap)",
    );
    expect(existsSync(join(app.stateDir, "edge.sock"))).toBe(false);

    const typo = await runCli([...start, "--shell-sandbox", "bubblewrap"], { env: noBwrap });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("--shell-sandbox 'bubblewrap': expected one of auto, bwrap, off");
  });
});
