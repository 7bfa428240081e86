import { EventEmitter } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type ManagedProcess, spawnManaged } from "../../../cli/local-stack/processes";
import { StackSupervisor, StopRequested } from "../../../cli/local-stack/supervisor";
import { until } from "../../edge/helpers/edge-process";

/**
 * The local stack's supervisor with cheap stand-ins for its components: node processes that
 * log the signal they get and, like wrangler with its workerd, keep a second process in their
 * group.
 */
const dir = mkdtempSync(join(tmpdir(), "auraison-supervisor-"));
const log = join(dir, "stops.log");
const started: ManagedProcess[] = [];

/** A component that logs `<name> <signal>` and `<name> exited`; `drainMs` < 0 ignores signals. */
function standIn(name: string, drainMs: number): ManagedProcess {
  const script = `
    const { appendFileSync } = require("node:fs");
    const { spawn } = require("node:child_process");
    const helper = spawn(process.execPath, ["-e", "for (const s of ['SIGINT','SIGTERM']) process.on(s, () => {}); setInterval(() => {}, 1000)"], { stdio: "ignore" });
    const stop = (signal) => {
      appendFileSync(${JSON.stringify(log)}, ${JSON.stringify(name)} + " " + signal + "\\n");
      if (${drainMs} < 0) return;
      setTimeout(() => {
        appendFileSync(${JSON.stringify(log)}, ${JSON.stringify(name)} + " exited\\n");
        helper.kill("SIGKILL");
        process.exit(0);
      }, ${drainMs});
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    // Ready: it takes signals as a component does.
    console.log("helper " + helper.pid);
    setInterval(() => {}, 1000);
  `;
  const proc = spawnManaged(name, process.execPath, ["-e", script]);
  started.push(proc);
  return proc;
}

async function helperPid(proc: ManagedProcess): Promise<number> {
  await until(() => /helper \d+/.test(proc.output()), 10_000);
  return Number(/helper (\d+)/.exec(proc.output())![1]);
}

/** Whether `pid` runs (a zombie waiting for its reaper does not). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = `/proc/${pid}/stat`;
  return !existsSync(stat) || !/^\d+ \(.*\) Z/.test(readFileSync(stat, "utf8"));
}

function supervisor(signals: EventEmitter, exits: number[], graceMs = 60_000) {
  const said: string[] = [];
  const s = new StackSupervisor({
    say: (line) => said.push(line),
    signals,
    exit: (code) => exits.push(code),
    graceMs: () => graceMs,
  });
  s.install();
  return { s, said };
}

afterEach(async () => {
  for (const proc of started.splice(0)) await proc.stop("SIGKILL", 0);
  rmSync(log, { force: true });
});

describe("the local stack's supervisor", () => {
  it("stops the edge agents first, then memory, then central, and says Ctrl-C again stops at once", async () => {
    const signals = new EventEmitter();
    const { s, said } = supervisor(signals, []);
    s.add(standIn("central", 0));
    s.add(standIn("edge", 300));
    s.add(standIn("edge-other", 300));
    s.add(standIn("memory", 100));
    await Promise.all(started.map(helperPid));
    const result = s.supervise();
    signals.emit("SIGINT", "SIGINT");
    expect(await result).toBe(0);
    expect(said[0]).toMatch(/^SIGINT: stopping the edge agents .*Ctrl-C again to stop at once/);
    const lines = readFileSync(log, "utf8").trim().split("\n");
    const at = (line: string) => lines.indexOf(line);
    expect(at("memory SIGTERM")).toBeGreaterThan(at("edge exited"));
    expect(at("memory SIGTERM")).toBeGreaterThan(at("edge-other exited"));
    expect(at("central SIGINT")).toBeGreaterThan(at("memory exited"));
    expect(at("central SIGINT")).toBe(lines.length - 2);
  });

  it("on a second signal kills every component's process group at once and exits 130", async () => {
    const signals = new EventEmitter();
    const exits: number[] = [];
    const { s, said } = supervisor(signals, exits);
    // Neither drains within the test: only the second signal can end them.
    for (const name of ["central", "edge", "memory"]) s.add(standIn(name, -1));
    const helpers = await Promise.all(started.map(helperPid));
    const pids = [...started.map((p) => p.child.pid!), ...helpers];
    signals.emit("SIGINT", "SIGINT");
    await until(
      () => existsSync(log) && readFileSync(log, "utf8").includes("edge SIGTERM"),
      10_000,
    );
    signals.emit("SIGINT", "SIGINT");
    expect(exits).toEqual([130]);
    expect(said.at(-1)).toMatch(/SIGINT again: killing every component now/);
    await until(() => pids.every((pid) => !running(pid)), 10_000).catch(() => {
      throw new Error(`still running: ${pids.filter(running).join(", ")}`);
    });
  });

  it("while starting: a signal stops what runs, a checkpoint then ends start-up, and a late component is stopped too", async () => {
    const signals = new EventEmitter();
    const { s } = supervisor(signals, [], 5_000);
    const central = s.add(standIn("central", 0));
    await helperPid(central);
    s.checkpoint();
    signals.emit("SIGTERM", "SIGTERM");
    expect(await central.exited).toBe(0);
    expect(() => s.checkpoint()).toThrow(StopRequested);
    const late = s.add(standIn("edge", 0));
    await s.stopAll();
    await late.exited;
    expect(running(late.child.pid!)).toBe(false);
    expect(s.stopSignal).toBe("SIGTERM");
  });
});
