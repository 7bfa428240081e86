import { EXIT } from "../errors";
import { killGroup, type ManagedProcess } from "./processes";

/** Where SIGINT/SIGTERM come from: the process, or a test's emitter. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

export interface SupervisorOptions {
  say: (line: string) => void;
  signals?: SignalSource;
  /** Ends the process after a second signal (process.exit; a test records the code instead). */
  exit?: (code: number) => void;
  /** How long each component may take to stop before its group is killed. */
  graceMs?: (proc: ManagedProcess) => number;
}

/** The exit code of a stack a signal stopped before it was up, and of a second signal. */
export const INTERRUPTED = 130;

const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM"];

/** Thrown at a start-up checkpoint once a stop was asked for: start-up goes no further. */
export class StopRequested extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`${signal} while starting`);
    this.name = "StopRequested";
  }
}

/**
 * The local stack's children and what a signal does to them, from before the first spawn to the
 * end: the children run in process groups of their own, which no Ctrl-C in the terminal reaches,
 * so this process must stop them whatever it is doing. The first SIGINT/SIGTERM stops them in
 * order (the edge agents first, which drain and deliver their events, then memory, which syncs
 * what they finished, then central); a second kills every group at once and exits 130.
 */
export class StackSupervisor {
  private readonly processes: ManagedProcess[] = [];
  private readonly signals: SignalSource;
  private readonly exit: (code: number) => void;
  private readonly graceMs: (proc: ManagedProcess) => number;
  private received: NodeJS.Signals[] = [];
  private stopping: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(private readonly options: SupervisorOptions) {
    this.signals = options.signals ?? process;
    this.exit = options.exit ?? ((code) => process.exit(code));
    this.graceMs = options.graceMs ?? ((proc) => (proc.name.startsWith("edge") ? 45_000 : 15_000));
  }

  install(): void {
    for (const signal of SIGNALS) this.signals.on(signal, this.onSignal);
  }

  uninstall(): void {
    for (const signal of SIGNALS) this.signals.off(signal, this.onSignal);
  }

  /** Takes `proc` into the stack; one started after a stop began is stopped at once. */
  add(proc: ManagedProcess): ManagedProcess {
    this.processes.push(proc);
    if (this.stopping) void proc.stop(stopSignal(proc), this.graceMs(proc));
    return proc;
  }

  /** Each component's pid, by name (for dev.json). */
  pids(): Record<string, number | undefined> {
    return Object.fromEntries(this.processes.map((p) => [p.name, p.child.pid]));
  }

  /** The signal that asked for a stop, if one did. */
  get stopSignal(): NodeJS.Signals | null {
    return this.received[0] ?? null;
  }

  /** Start-up calls this after each await, so a stop asked for meanwhile ends it there. */
  checkpoint(): void {
    if (this.stopSignal) throw new StopRequested(this.stopSignal);
  }

  /** Stops every component in order; calling it again waits for the same stop. */
  stopAll(): Promise<void> {
    this.stopping ??= this.stopInOrder();
    return this.stopping;
  }

  /** Waits for a signal (clean stop, exit 0) or for a component to die (stop the rest, exit 1). */
  async supervise(): Promise<number> {
    const signalled = new Promise<"signal">((resolve) => {
      this.wake = () => resolve("signal");
      if (this.stopSignal) resolve("signal");
    });
    const died = Promise.race(
      this.processes.map((p) => p.exited.then((code) => ({ proc: p, code }))),
    );
    const first = await Promise.race([signalled, died]);
    if (first === "signal") {
      await this.stopAll();
      this.options.say("stopped.");
      return EXIT.ok;
    }
    this.options.say(
      `${first.proc.name} exited unexpectedly (${first.code}); stopping the rest. Its last output:\n${first.proc.output()}`,
    );
    await this.stopAll();
    return EXIT.failure;
  }

  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.received.push(signal);
    if (this.received.length === 1) {
      this.options.say(
        `${signal}: stopping the edge agents (they drain), then memory, then central ... (Ctrl-C again to stop at once)`,
      );
      void this.stopAll();
      this.wake?.();
      return;
    }
    this.options.say(`${signal} again: killing every component now`);
    for (const proc of this.processes) killGroup(proc.child, "SIGKILL");
    this.exit(INTERRUPTED);
  };

  private async stopInOrder(): Promise<void> {
    // One added from now on is stopped by add().
    const all = [...this.processes];
    for (const rank of [0, 1, 2, 3]) {
      const group = all.filter((p) => stopRank(p) === rank);
      await Promise.all(group.map((p) => p.stop(stopSignal(p), this.graceMs(p))));
    }
  }
}

/** Edge agents, memory, central, anything else: who stops before whom. */
function stopRank(proc: ManagedProcess): number {
  if (proc.name.startsWith("edge")) return 0;
  if (proc.name === "memory") return 1;
  if (proc.name === "central") return 2;
  return 3;
}

/** wrangler stops workerd on SIGINT; the others drain on SIGTERM. */
function stopSignal(proc: ManagedProcess): NodeJS.Signals {
  return proc.name === "central" ? "SIGINT" : "SIGTERM";
}
