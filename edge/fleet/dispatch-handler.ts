import type { z } from "zod";
import {
  type CancelMessage,
  type ClaimedMessage,
  type ClaimRejectedMessage,
  check,
  type DispatchMessage,
  Intent,
  isAgentTarget,
  isTerminal,
  type JsonValue,
  type LeaseMessage,
  redactedExcerpt,
  runMachine,
  type SecretsMessage,
  withholdValues,
} from "../../contract";
import { Emitter } from "../events/emitter";
import type { RunExecution } from "../runs/run-executor";
import type { EdgeRuntime } from "../runtime";
import { LeaseFence } from "./lease-fence";
import type { CentralLink } from "./link";

type Dispatch = z.output<typeof DispatchMessage>;
type Claimed = z.output<typeof ClaimedMessage>;
type ClaimRejected = z.output<typeof ClaimRejectedMessage>;
type Cancel = z.output<typeof CancelMessage>;
type Secrets = z.output<typeof SecretsMessage>;
type Lease = z.output<typeof LeaseMessage>;

const CLAIM_TIMEOUT_MS = 30_000;

const lapsedLine = (runId: string, attempt: number) =>
  `run ${runId} (attempt ${attempt}): its lease ran out unrenewed, so central may run it elsewhere; stopped here until central renews it or dispatches it again`;
const REDEEM_TIMEOUT_MS = 30_000;

/**
 * Central's side of a run, on the edge: a dispatch is checked (the intent again, against the
 * contract and against what this agent serves), acknowledged, claimed, and once central grants
 * the claim, run. A dispatch this agent will not run is refused with the reason, and a malformed
 * intent also leaves an `error` event for the run, and the agent keeps serving.
 */
export class DispatchHandler {
  private readonly claims = new Map<
    string,
    { resolve: (granted: Claimed | null, reason?: string) => void; timer: NodeJS.Timeout }
  >();
  private readonly redemptions = new Map<
    string,
    { resolve: (answer: Secrets | null) => void; timer: NodeJS.Timeout }
  >();
  /** Seq of refusal events per run attempt this agent never ran. */
  private readonly refusalSeq = new Map<string, number>();

  private readonly fence: LeaseFence;
  /** Run attempts between their dispatch and their start (claim, secrets). */
  private readonly dispatching = new Set<string>();
  /** The secrets each held run attempt's claim redeemed, for when a renewal restarts it. */
  private readonly secretsOf = new Map<string, Readonly<Record<string, string>>>();
  /** Runs being stopped because their lease ran out. */
  private readonly stopping = new Map<string, Promise<void>>();

  constructor(
    private readonly runtime: EdgeRuntime,
    private readonly link: CentralLink,
    private readonly log: (line: string) => void,
  ) {
    this.fence = new LeaseFence((runId, attempt) => void this.lapsed(runId, attempt));
  }

  async dispatch(message: Dispatch): Promise<void> {
    const { run_id, attempt } = message;
    const parsed = check(Intent, message.intent);
    if (!parsed.ok) {
      const detail = parsed.issues
        .slice(0, 10)
        .map((i) => `${i.path}: ${i.message}`)
        .join("; ");
      await this.refuse(message, "invalid_intent", `the intent is not valid: ${detail}`, {
        issues: parsed.issues.slice(0, 20).map((i) => ({ ...i })),
      });
      return;
    }
    const intent = parsed.value;
    const problem = this.unsupported(intent);
    if (problem) {
      await this.refuse(message, "unsupported", problem, null);
      return;
    }
    const runs = this.runtime.runs;
    if (runs.isDraining && !runs.isActive(run_id)) {
      await this.refuse(message, "draining", "the agent is shutting down", null);
      return;
    }
    if (!runs.hasCapacity && !runs.isActive(run_id)) {
      await this.refuse(message, "no_capacity", "the agent is running its maximum of runs", null);
      return;
    }
    const held = runs.get(run_id);
    if (held && runs.isActive(run_id) && held.attempt < attempt) {
      // Central gave up on the attempt this agent is still running (its lease lapsed while
      // the connection was down) and dispatched it again: continue the same session under the
      // new attempt rather than run it twice.
      await runs.checkpoint(run_id, `re-dispatched as attempt ${attempt}`);
    }
    const key = `${run_id}/${attempt}`;
    this.dispatching.add(key);
    this.forgetSecrets(run_id);
    try {
      await runs.admit(intent, run_id, attempt, "central");
      this.link.send({ type: "ack", run_id, attempt });
      const claimed = await this.claim(run_id, attempt);
      if (!claimed.granted) {
        const record = runs.get(run_id);
        if (record?.status === "dispatched" && !runs.isActive(run_id))
          await this.runtime.runs.abandon(run_id, `claim rejected: ${claimed.reason}`);
        this.log(`claim of run ${run_id} (attempt ${attempt}) not granted: ${claimed.reason}`);
        return;
      }
      await this.held(run_id, attempt, claimed.granted.lease_expires_at);
      this.secretsOf.set(key, await this.redeem(claimed.granted));
      await this.runLeased(run_id, attempt);
    } finally {
      this.dispatching.delete(key);
    }
  }

  /**
   * Runs (or goes on with) a run attempt under its lease: not at all if the lease ran out while
   * the run was being claimed, and stopped again if it ran out while the run was starting.
   */
  private async runLeased(runId: string, attempt: number): Promise<void> {
    const runs = this.runtime.runs;
    if (!this.fence.holds(runId, attempt)) {
      this.log(lapsedLine(runId, attempt));
      return;
    }
    this.watch(await runs.begin(runId, this.secretsOf.get(`${runId}/${attempt}`)), attempt);
    if (!this.fence.holds(runId, attempt)) await this.stop(runId, attempt);
  }

  /**
   * Central renewed a lease. A run this agent stopped because its lease seemed to run out (on
   * this host's clock, or over a restart while central was away) goes on, with the secrets its
   * claim redeemed: central says it is still this agent's.
   */
  async lease(message: Lease): Promise<void> {
    const { run_id, attempt } = message;
    const runs = this.runtime.runs;
    const ours = () => {
      const record = runs.get(run_id);
      return (
        record?.origin === "central" &&
        record.attempt === attempt &&
        (record.status === "running" || record.status === "dispatched")
      );
    };
    if (!ours()) return;
    // A stop under way ends first, so the run it stopped is the one that goes on.
    await this.stopping.get(run_id);
    if (!ours()) return;
    await this.held(run_id, attempt, message.lease_expires_at);
    if (this.dispatching.has(`${run_id}/${attempt}`) || runs.isActive(run_id)) return;
    if (runs.isDraining || !runs.hasCapacity) return;
    this.log(`run ${run_id} (attempt ${attempt}): central renewed its lease; going on with it`);
    await this.runLeased(run_id, attempt);
  }

  /** Fences the runs the agent resumed on start with the lease their records last had. */
  resumed(executions: readonly RunExecution[]): void {
    for (const execution of executions) {
      const record = this.runtime.runs.get(execution.runId);
      if (record?.origin !== "central" || record.lease_expires_at === null) continue;
      this.fence.hold(execution.runId, record.attempt, record.lease_expires_at);
      this.watch(execution, record.attempt);
    }
  }

  private async held(runId: string, attempt: number, expiresAt: string): Promise<void> {
    this.fence.hold(runId, attempt, expiresAt);
    await this.runtime.runs.leased(runId, attempt, expiresAt);
  }

  /** When the attempt's execution ends: its lease no longer matters, nor, once over, its secrets. */
  private watch(execution: RunExecution, attempt: number): void {
    void execution.done
      .then((final) => {
        if (isTerminal(runMachine, final.status)) this.forgetSecrets(execution.runId);
      })
      .catch(() => undefined)
      .then(() => this.fence.release(execution.runId, attempt));
  }

  private async lapsed(runId: string, attempt: number): Promise<void> {
    const runs = this.runtime.runs;
    // A run still starting is stopped by runLeased once it has started.
    if (!runs.isActive(runId) || runs.get(runId)?.attempt !== attempt) return;
    await this.stop(runId, attempt);
  }

  private stop(runId: string, attempt: number): Promise<void> {
    this.log(lapsedLine(runId, attempt));
    const stopping = this.runtime.runs
      .checkpoint(runId, "lease expired")
      .finally(() => this.stopping.delete(runId));
    this.stopping.set(runId, stopping);
    return stopping;
  }

  /** Stops the fence's timers (the agent is shutting down). */
  close(): void {
    this.fence.close();
  }

  /**
   * The tenant secrets the app declares, for this run attempt: the claim's handle redeemed once.
   * Their values are masked in everything this process writes from now on, before the run
   * starts. What central withholds (or a lost connection) leaves the environment to resolve
   * references, or the adapter call to fail saying which name is not set.
   */
  private async redeem(claimed: Claimed): Promise<Record<string, string>> {
    const names = this.runtime.app.config.secrets;
    const { run_id, attempt, secrets_handle: handle } = claimed;
    if (names.length === 0 || !handle) return {};
    const key = `${run_id}/${attempt}`;
    const answer = await new Promise<Secrets | null>((resolve) => {
      const timer = setTimeout(() => this.answered(key, null), REDEEM_TIMEOUT_MS);
      this.redemptions.set(key, { resolve, timer });
      if (!this.link.send({ type: "redeem_secrets", run_id, attempt, handle, names: [...names] }))
        this.answered(key, null);
    });
    if (!answer || answer.refused !== null)
      this.log(
        `run ${run_id}: central handed over no secrets (${answer?.refused ?? "no answer"}); references fall back to the environment`,
      );
    else if (answer.missing.length > 0)
      this.log(
        `run ${run_id}: central has no secret ${answer.missing.join(", ")} for app ${this.runtime.app.app}; those fall back to the environment`,
      );
    const values = answer?.values ?? {};
    withholdValues(Object.values(values));
    return values;
  }

  secrets(message: Secrets): void {
    this.answered(`${message.run_id}/${message.attempt}`, message);
  }

  private answered(key: string, answer: Secrets | null): void {
    const pending = this.redemptions.get(key);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.redemptions.delete(key);
    pending.resolve(answer);
  }

  claimed(message: Claimed): void {
    this.settle(message.run_id, message.attempt, message);
  }

  claimRejected(message: ClaimRejected): void {
    this.settle(message.run_id, message.attempt, null, message.reason);
  }

  async cancel(message: Cancel): Promise<void> {
    const runs = this.runtime.runs;
    const reason = message.reason || "cancelled by central";
    if (runs.cancel(message.run_id, reason, "central")) return;
    const record = runs.get(message.run_id);
    if (record?.status === "dispatched") await runs.abandon(message.run_id, reason);
    else if (!(await runs.cancelStopped(message.run_id, reason, "central"))) return;
    this.forgetSecrets(message.run_id);
  }

  /** Drops the secrets the run's attempts redeemed: it ended, or central dispatched it again. */
  private forgetSecrets(runId: string): void {
    for (const key of this.secretsOf.keys())
      if (key.startsWith(`${runId}/`)) this.secretsOf.delete(key);
  }

  /** Pending claims and redemptions fail when the connection they were made on is gone. */
  disconnected(): void {
    for (const [key] of this.claims) {
      const [runId, attempt] = key.split("/");
      this.settle(runId!, Number(attempt), null, "connection to central lost");
    }
    for (const [key] of this.redemptions) this.answered(key, null);
  }

  private claim(
    runId: string,
    attempt: number,
  ): Promise<{ granted: Claimed | null; reason: string }> {
    return new Promise((resolve) => {
      const key = `${runId}/${attempt}`;
      const timer = setTimeout(
        () => this.settle(runId, attempt, null, "no answer to the claim"),
        CLAIM_TIMEOUT_MS,
      );
      this.claims.set(key, {
        resolve: (granted, reason) => resolve({ granted, reason: reason ?? "" }),
        timer,
      });
      if (!this.link.send({ type: "claim", run_id: runId, attempt }))
        this.settle(runId, attempt, null, "connection to central lost");
    });
  }

  private settle(runId: string, attempt: number, granted: Claimed | null, reason?: string): void {
    const key = `${runId}/${attempt}`;
    const pending = this.claims.get(key);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.claims.delete(key);
    pending.resolve(granted, reason);
  }

  private unsupported(intent: Intent): string | null {
    const app = this.runtime.app.app;
    const agentId = this.runtime.options.agentId;
    const mine = intent.targets.some((t) =>
      isAgentTarget(t) ? t.agent_id === agentId : t.app === undefined || t.app === app,
    );
    if (!mine) return `the intent targets neither this agent (${agentId}) nor its app (${app})`;
    if (intent.fork_of && !this.runtime.runs.get(intent.fork_of.run_id))
      return `run ${intent.fork_of.run_id} is not on this agent, so it cannot be forked here`;
    return null;
  }

  private async refuse(
    message: Dispatch,
    reason: "invalid_intent" | "no_capacity" | "unsupported" | "draining",
    text: string,
    detail: { [key: string]: JsonValue } | null,
  ): Promise<void> {
    const { run_id, attempt } = message;
    const tenant = this.link.session?.tenant ?? this.runtime.options.tenant;
    this.link.send({
      type: "refuse",
      run_id,
      attempt,
      reason,
      message: redactedExcerpt(text, 4096),
    });
    this.log(`refused run ${run_id} (attempt ${attempt}): ${reason}: ${text}`);
    if (reason !== "invalid_intent") return;
    const key = `${run_id}/${attempt}`;
    const seq = this.refusalSeq.get(key) ?? 0;
    this.refusalSeq.set(key, seq + 1);
    const emitter = new Emitter(
      this.runtime.eventSink,
      { tenant, agent_id: this.runtime.options.agentId, run_id, attempt },
      seq,
    );
    await emitter.emit("error", {
      category: "invalid_intent",
      code: "invalid_intent",
      message: redactedExcerpt(text, 4096),
      fatal: true,
      detail,
    });
  }
}
