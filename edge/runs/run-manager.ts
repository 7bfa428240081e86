import {
  type AgentEvent,
  emptyUsage,
  type Intent,
  isTerminal,
  nowTs,
  type RunStatus,
  runMachine,
} from "../../contract";
import type { Outbox } from "../outbox/outbox";
import { effectiveBudget } from "../policy/chain";
import { hasSession } from "../session/session-files";
import type { StopRequest } from "./run-control";
import { type ExecutorDeps, RunExecution, type RunStart, runEmitter } from "./run-executor";
import type { RunRecord } from "./run-record";
import type { RunRecords } from "./run-records";
import { RunView } from "./run-view";

export class CapacityError extends Error {
  constructor(max: number) {
    super(`the agent is running its maximum of ${max} run(s)`);
    this.name = "CapacityError";
  }
}

export class UnknownRunError extends Error {
  constructor(runId: string) {
    super(`no run ${runId} on this agent`);
    this.name = "UnknownRunError";
  }
}

export interface RunManagerDeps extends ExecutorDeps {
  store: RunRecords;
  outbox: Outbox;
  maxConcurrency: number;
}

/**
 * The runs of one agent: admission (capacity, draining), their state machine up to `running`,
 * execution, cancel, and after a restart the runs that were interrupted.
 */
export class RunManager {
  private readonly active = new Map<string, RunExecution>();
  private readonly starting = new Map<string, Promise<RunExecution>>();
  /** A stop asked for while its run was starting, for its execution once it exists. */
  private readonly stopsWhileStarting = new Map<string, StopRequest>();
  private draining = false;
  private readonly finishedListeners = new Set<(record: RunRecord) => void>();

  constructor(private readonly deps: RunManagerDeps) {}

  get running(): RunRecord[] {
    return [...this.active.keys()].map((id) => this.deps.store.get(id)!).filter(Boolean);
  }

  get isDraining(): boolean {
    return this.draining;
  }

  get hasCapacity(): boolean {
    return !this.draining && this.active.size < this.deps.maxConcurrency;
  }

  get(runId: string): RunRecord | undefined {
    return this.deps.store.get(runId);
  }

  list(): RunRecord[] {
    return this.deps.store.list();
  }

  /**
   * The central runs this agent holds, as its `hello` names them after a reconnect: those
   * running, and those whose claim central granted (a lease on record) that have not begun yet.
   * Central sends a run it has this agent holding, and the `hello` does not name, back to the
   * queue, so leaving out a granted one about to begin would have it run here and elsewhere.
   */
  heldForCentral(): { run_id: string; attempt: number }[] {
    return this.list()
      .filter(
        (r) =>
          r.origin === "central" &&
          (r.status === "running" || (r.status === "dispatched" && r.lease_expires_at !== null)),
      )
      .map((r) => ({ run_id: r.run_id, attempt: r.attempt }));
  }

  isActive(runId: string): boolean {
    return this.active.has(runId);
  }

  onFinished(listener: (record: RunRecord) => void): () => void {
    this.finishedListeners.add(listener);
    return () => this.finishedListeners.delete(listener);
  }

  /**
   * Records a run this agent was given (dispatched by central or started locally), moving it to
   * `dispatched`. A re-dispatch of a run it still holds keeps the record and its session.
   */
  async admit(
    intent: Intent,
    runId: string,
    attempt: number,
    origin: RunRecord["origin"],
  ): Promise<RunRecord> {
    const existing = this.deps.store.get(runId);
    if (existing && !isTerminal(runMachine, existing.status)) {
      return this.deps.store.update(runId, { attempt, intent, lease_expires_at: null });
    }
    const record: RunRecord = {
      run_id: runId,
      intent,
      attempt,
      origin,
      status: "pending" satisfies RunStatus,
      tree_ref: { session_file: `sessions/${runId}-${attempt}.jsonl`, entry_id: null },
      forked_from: intent.fork_of
        ? { run_id: intent.fork_of.run_id, entry_id: intent.fork_of.entry_id ?? null }
        : null,
      budget: effectiveBudget(intent.policy_ctx.budget, this.deps.app.config.policy.budget),
      model: null,
      created_at: nowTs(),
      started_at: null,
      finished_at: null,
      result: null,
      error: null,
      usage: emptyUsage(),
      lease_expires_at: null,
    };
    await this.deps.store.put(record);
    return this.deps.store.transition(runId, "dispatch");
  }

  /**
   * Takes an admitted run (central granted the claim, or it is local) and executes it, with the
   * tenant secrets central handed it for its adapters (none for a local run).
   */
  begin(runId: string, secrets: Readonly<Record<string, string>> = {}): Promise<RunExecution> {
    const existing = this.active.get(runId);
    if (existing) return Promise.resolve(existing);
    // A second begin while the first reads the run's log (a renewal, a resume) gets the same run.
    const starting = this.starting.get(runId);
    if (starting) return starting;
    const start = this.start(runId, secrets).finally(() => {
      this.starting.delete(runId);
      this.stopsWhileStarting.delete(runId);
    });
    this.starting.set(runId, start);
    return start;
  }

  private async start(
    runId: string,
    secrets: Readonly<Record<string, string>>,
  ): Promise<RunExecution> {
    if (!this.hasCapacity) throw new CapacityError(this.deps.maxConcurrency);
    const record = this.deps.store.get(runId);
    if (!record) throw new UnknownRunError(runId);
    let start: RunStart = { kind: "new" };
    if (record.status === "running") {
      const events = (await this.deps.outbox.eventsOfRuns(new Set([runId]))).get(runId) ?? [];
      // A fork the agent stopped before its session was copied (the copy and its tree_ref are
      // written after the claim) has nothing to resume: the copy is made again.
      start =
        record.intent.fork_of && !hasSession(this.deps.stateDir, record.tree_ref)
          ? this.forkStart(record, events)
          : { kind: "resume", events };
    } else {
      await this.deps.store.transition(runId, "claim");
      if (record.intent.fork_of) start = this.forkStart(record, []);
    }
    return this.execute(this.deps.store.get(runId)!, start, secrets);
  }

  private forkStart(record: RunRecord, events: AgentEvent[]): RunStart {
    const fork = record.intent.fork_of!;
    return {
      kind: "fork",
      sourceRunId: fork.run_id,
      source: this.deps.store.get(fork.run_id) ?? null,
      entryId: fork.entry_id ?? null,
      events,
    };
  }

  /** Keeps central's latest lease deadline for a run attempt, for after a restart. */
  async leased(runId: string, attempt: number, expiresAt: string): Promise<void> {
    if (this.deps.store.get(runId)?.attempt === attempt)
      await this.deps.store.update(runId, { lease_expires_at: expiresAt });
  }

  /** Drops a run that was admitted but never started (central did not grant the claim). */
  async abandon(runId: string, why: string): Promise<void> {
    await this.deps.store.transition(runId, "cancel", {
      finished_at: nowTs(),
      error: { category: "cancelled", reason: "not_claimed", message: why },
    });
  }

  /**
   * Stops one run so it can be picked up again (central re-dispatched it under a new attempt);
   * resolves once it stopped.
   */
  async checkpoint(runId: string, reason: string): Promise<void> {
    const execution = this.active.get(runId);
    if (!execution) return;
    execution.control.stop({ kind: "checkpoint", reason });
    await execution.done.catch(() => undefined);
  }

  /**
   * Ends a run this agent holds but is not running (stopped at its lease's end, or left by a
   * restart): logs run_cancelled after the attempt's events and settles the record from them.
   * False when the run is not such a run.
   */
  async cancelStopped(runId: string, reason: string, by: string | null): Promise<boolean> {
    const record = this.deps.store.get(runId);
    if (record?.status !== "running" || this.active.has(runId) || this.starting.has(runId))
      return false;
    const logged = (await this.deps.outbox.eventsOfRuns(new Set([runId]))).get(runId) ?? [];
    const view = new RunView(runId, record.intent.policy_ctx.tenant, logged);
    await runEmitter(this.deps, record, logged, (e) => view.observe(e)).emit("run_cancelled", {
      reason,
      by,
      usage: view.usage,
      tree_ref: record.tree_ref,
    });
    const { status, changes } = view.outcome;
    await this.deps.store.settle(runId, status, changes);
    return true;
  }

  /**
   * Stops a run; it ends with run_cancelled. A run still starting (its claim being written, its
   * log read) is stopped as soon as it exists. False when this agent is not running it.
   */
  cancel(runId: string, reason: string, by: string | null): boolean {
    const request: StopRequest = { kind: "cancel", reason, by };
    const execution = this.active.get(runId);
    if (execution) return execution.control.stop(request);
    if (!this.starting.has(runId) || this.stopsWhileStarting.has(runId)) return false;
    this.stopsWhileStarting.set(runId, request);
    return true;
  }

  /**
   * Re-starts every run that was running when the agent last stopped (those `accept` takes), in
   * creation order.
   */
  async resumeInterrupted(
    accept: (record: RunRecord) => boolean = () => true,
  ): Promise<RunExecution[]> {
    const interrupted = this.deps.store.interrupted().reverse().filter(accept);
    const started: RunExecution[] = [];
    for (const record of interrupted) {
      if (this.active.size >= this.deps.maxConcurrency) break;
      started.push(await this.begin(record.run_id));
    }
    return started;
  }

  /** Takes no new runs from now on. */
  drain(): void {
    this.draining = true;
  }

  /** Waits for the active runs to end, up to `timeoutMs`; true when they all did. */
  async settle(timeoutMs: number): Promise<boolean> {
    const all = Promise.all([...this.active.values()].map((e) => e.done.catch(() => undefined)));
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      all.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    return finished;
  }

  /** Stops the active runs so the next start resumes them, and waits until they stopped. */
  async checkpointAll(reason: string): Promise<void> {
    const executions = [...this.active.values()];
    for (const e of executions) e.control.stop({ kind: "checkpoint", reason });
    await Promise.all(executions.map((e) => e.done.catch(() => undefined)));
  }

  private execute(
    record: RunRecord,
    start: RunStart,
    secrets: Readonly<Record<string, string>>,
  ): RunExecution {
    const execution = new RunExecution(this.deps, record, start, secrets, () =>
      this.active.delete(record.run_id),
    );
    this.active.set(record.run_id, execution);
    // Before the session exists: the run stops before its first model call (RunControl).
    const early = this.stopsWhileStarting.get(record.run_id);
    if (early) execution.control.stop(early);
    execution.done.then(
      (final) => {
        for (const listener of this.finishedListeners) listener(final);
      },
      (error: unknown) => {
        process.stderr.write(
          `auraison edge: run ${record.run_id} crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
        );
      },
    );
    return execution;
  }
}
