import type { AgentEvent, EventKind, EventPayload } from "../events/agent-event";
import { type BudgetLimits, describeTarget, type Target } from "../intent";
import { isTerminal, mustTransition } from "../machines/machine";
import {
  type ApprovalEvent,
  approvalMachine,
  type PlanEvent,
  type PlanStatus,
  planMachine,
  type StepEvent,
  type StepStatus,
  stepMachine,
} from "../machines/plan";
import type { RunStatus } from "../machines/run";
import { own } from "../own";
import { addUsage, CENTRAL_AGENT_ID, emptyUsage, type JsonValue, type Usage } from "../primitives";
import type { RunError, RunState } from "../run-state";
import type { Approval, Plan, PlanStep, PlanStepSpec, StepRun } from "./plan";

/** What moves a plan: its planner's answers, its steps' runs, people, and time. */
export type PlanInput =
  /** Ask for the first plan (or, after a restart, for the round that was under way). */
  | { type: "start" }
  /** The planner made a valid plan (checked with checkPlanSteps). */
  | {
      type: "planned";
      steps: readonly PlanStepSpec[];
      usage: Usage;
      /** The ask it answers (the `plan` effect's); without it, the one under way. */
      answers?: PlanAsk;
      /** A PDDL plan's solver, and how it was made (for the plan_version event). */
      solver?: "central" | "external";
      note?: string;
    }
  /** The planner's answer was refused (bad JSON, a cycle, an unknown skill, ...), or it failed. */
  | { type: "planning_failed"; error: string; usage: Usage; answers?: PlanAsk }
  /**
   * A decision on the approval `approval_id` (of the step, or of the plan when `step_id` is
   * null): refused unless that approval is still the one awaited (a repair may have replaced its
   * step with one of the same id) and its deadline has not passed.
   */
  | {
      type: "approve";
      approval_id: string;
      step_id: string | null;
      by: string;
      reason?: string | null;
    }
  | {
      type: "reject";
      approval_id: string;
      step_id: string | null;
      by: string;
      reason: string | null;
    }
  /** A step's intent was submitted and became this run. */
  | { type: "submitted"; step_id: string; attempt: number; run_id: string; intent_id: string }
  /** A step's intent could not be submitted. */
  | { type: "submit_failed"; step_id: string; error: RunError }
  /**
   * One of the plan's runs changed (its usage, or how it ended); `priced_usd` is the USD of its
   * priced calls, which its usage does not show once a call was unpriced.
   */
  | { type: "run"; run: RunState; priced_usd?: number }
  | { type: "pause"; by: string }
  | { type: "resume"; by: string }
  | { type: "cancel"; by: string; reason: string }
  /** Time passed: approval deadlines and the plan's wall-time budget. */
  | { type: "tick" };

/** What a plan step asks of central, which carries it out. */
export type PlanEffect =
  | { type: "emit"; event: AgentEvent }
  /** Make a plan (round initial) or repair it (round repair); feedback says why the last was refused. */
  | ({ type: "plan"; round: "initial" | "repair"; feedback: string | null } & PlanAsk)
  /** Submit one attempt of a step as an intent, idempotent by plan, version, step and attempt. */
  | {
      type: "submit";
      step_id: string;
      attempt: number;
      idempotency_key: string;
      intent: {
        type: string;
        params: Record<string, JsonValue>;
        targets: Target[];
        budget: BudgetLimits;
        deadline: string | null;
      };
    }
  | { type: "cancel_run"; run_id: string; reason: string };

/**
 * Which ask a planner's answer is for: a step that fails for good while a repair is being
 * planned starts another replan, and the answer to the ask before it (made while that step
 * seemed to be running) is then stale.
 */
export interface PlanAsk {
  replan: number;
  attempt: number;
}

export interface PlanContext {
  now: number;
  newEventId: () => string;
}

export interface PlanStepResult {
  plan: Plan;
  effects: PlanEffect[];
  refusal: string | null;
}

/**
 * A plan's life, as one pure function like a run's (contract/runs): `(Plan, input, context) ->
 * (Plan', effects)`. It starts ready steps in parallel as far as the graph and the policy allow,
 * hands results on to the steps that take them, retries a step within its attempts, asks for a
 * repair when a step fails for good (a bounded number of times), holds approvals and the plan's
 * budget, and says every change as an event.
 */
export function stepPlan(plan: Plan, input: PlanInput, context: PlanContext): PlanStepResult {
  const fold = new PlanFold(structuredClone(plan), context);
  fold.apply(input);
  if (fold.refusal) return { plan, effects: [], refusal: fold.refusal };
  return { plan: fold.plan, effects: fold.effects, refusal: null };
}

const OPEN_STEP: readonly StepStatus[] = ["waiting", "awaiting_approval", "ready"];
const SETTLED_RUN: readonly RunStatus[] = ["completed", "failed", "cancelled"];

class PlanFold {
  readonly effects: PlanEffect[] = [];
  refusal: string | null = null;
  private seq: number;
  /** The step asked for a plan; the planner is called once the step has settled the budget. */
  private planAsked = false;
  /** A repair began in this step: a step failing later in it joins that repair's feedback. */
  private repairing = false;

  constructor(
    readonly plan: Plan,
    private readonly context: PlanContext,
  ) {
    this.seq = plan.event_seq;
  }

  apply(input: PlanInput) {
    const plan = this.plan;
    const ended = isTerminal(planMachine, plan.status);
    if (ended && input.type !== "run") {
      this.refusal = `plan ${plan.plan_id} is already ${plan.status}`;
      return;
    }
    switch (input.type) {
      case "start":
        this.created();
        this.askPlanner();
        break;
      case "planned":
        this.planned(input);
        break;
      case "planning_failed":
        this.planningFailed(input.error, input.usage, input.answers);
        break;
      case "approve":
        this.decide(input, "approve", input.reason ?? null);
        break;
      case "reject":
        this.decide(input, "reject", input.reason);
        break;
      case "submitted":
        this.submitted(input);
        break;
      case "submit_failed":
        this.attemptEnded(input.step_id, input.error);
        break;
      case "run":
        this.runChanged(input.run, input.priced_usd);
        break;
      case "pause":
        if (plan.status !== "running") return this.refuse(`plan ${plan.plan_id} is ${plan.status}`);
        plan.paused_by = input.by;
        this.movePlan("pause", `paused by ${input.by}`);
        break;
      case "resume":
        if (plan.status !== "paused") return this.refuse(`plan ${plan.plan_id} is ${plan.status}`);
        plan.paused_by = null;
        this.movePlan("resume", `resumed by ${input.by}`);
        this.repairHeld();
        break;
      case "cancel":
        this.end("cancel", null, `cancelled by ${input.by}: ${input.reason}`);
        break;
      case "tick":
        this.tick();
        break;
    }
    if (!isTerminal(planMachine, plan.status)) {
      this.checkBudget();
      this.advance();
    }
    // A plan that ended in this step (its planning calls spent its budget) asks its planner no more.
    if (this.planAsked && !isTerminal(planMachine, plan.status)) {
      const p = plan.planning;
      this.effects.push({
        type: "plan",
        round: p.round,
        replan: p.replans,
        attempt: p.attempts,
        feedback: p.feedback,
      });
    }
    plan.usage = planUsage(plan);
    plan.event_seq = this.seq;
  }

  // --- planning ------------------------------------------------------------------------------

  private askPlanner() {
    const p = this.plan.planning;
    if (p.attempts === 0) p.attempts = 1;
    this.planAsked = true;
  }

  private planned(input: Extract<PlanInput, { type: "planned" }>) {
    const { steps: specs, usage } = input;
    const plan = this.plan;
    this.planningSpent(usage);
    if (plan.status !== "planning" && plan.status !== "replanning")
      return this.refuse(`plan ${plan.plan_id} is not being planned (${plan.status})`);
    if (this.stale(input.answers)) return this.askPlanner();
    const version = plan.version + 1;
    const round = plan.planning.round;
    const now = this.iso();
    if (round === "repair") {
      const kept = plan.steps.filter(isKept);
      const replaced = plan.steps.filter((s) => !kept.includes(s));
      for (const step of replaced) {
        if (OPEN_STEP.includes(step.status)) this.moveStep(step, "supersede", null);
        if (step.approval?.status === "pending")
          this.settleApproval(
            step.approval,
            "withdraw",
            null,
            `step superseded by version ${version}`,
          );
      }
      plan.history.push({
        version: plan.version,
        reason: plan.planning.feedback ?? "repair",
        replaced_at: now,
        steps: replaced,
      });
      plan.steps = kept;
    }
    plan.version = version;
    for (const spec of specs)
      plan.steps.push({
        ...spec,
        version,
        status: "waiting",
        attempt: 0,
        runs: [],
        result: null,
        error: null,
        approval: null,
        started_at: null,
        finished_at: null,
      });
    plan.planning = { ...plan.planning, attempts: 0, feedback: null };
    this.emit("plan_version", {
      plan_id: plan.plan_id,
      version,
      round,
      planner: plan.planner,
      ...(input.solver ? { solver: input.solver } : {}),
      ...(input.note ? { note: input.note.slice(0, 2048) } : {}),
      steps: specs.map((s) => ({
        id: s.id,
        type: s.type,
        targets: s.targets.map(describeTarget),
        depends_on: s.depends_on,
        action: s.action ?? null,
        requires_approval: s.requires_approval,
      })),
    });
    if (round === "repair")
      return this.movePlan("replanned", `version ${version} replaces the steps not done`);
    if (plan.policy.approve_before_start) {
      plan.approval = this.request(null);
      return this.movePlan("gate", "the plan waits for approval before it starts");
    }
    plan.started_at = now;
    this.movePlan("planned", `version ${version}: ${specs.length} steps`);
  }

  private planningSpent(usage: Usage) {
    const p = this.plan.planning;
    p.priced_usd = planningPriced(p) + (usage.cost_usd ?? 0);
    p.usage = addUsage(p.usage, usage);
  }

  /** An answer to an ask made before the last replan began: what it planned around has changed. */
  private stale(answers: PlanAsk | undefined): boolean {
    const p = this.plan.planning;
    return (
      answers !== undefined && (answers.replan !== p.replans || answers.attempt !== p.attempts)
    );
  }

  private planningFailed(error: string, usage: Usage, answers: PlanAsk | undefined) {
    const plan = this.plan;
    this.planningSpent(usage);
    if (plan.status !== "planning" && plan.status !== "replanning")
      return this.refuse(`plan ${plan.plan_id} is not being planned (${plan.status})`);
    if (this.stale(answers)) return this.askPlanner();
    const p = plan.planning;
    if (p.attempts < plan.policy.planning_attempts) {
      p.attempts += 1;
      p.feedback = error.slice(0, 8_192);
      this.askPlanner();
      return;
    }
    this.end(
      "fail",
      {
        category: "model",
        reason: "planning_failed",
        message: `no valid plan after ${p.attempts} attempts: ${error}`.slice(0, 4096),
      },
      "planning failed",
    );
  }

  /**
   * A step failed for good: repair the rest if the policy allows another replan, else fail. A
   * paused plan holds the failure until it is resumed (a repair would start steps); a plan
   * already being repaired starts another replan that covers this step too.
   */
  private repairOrFail(step: PlanStep, error: RunError) {
    const plan = this.plan;
    const canRepair =
      plan.planner !== "given" &&
      (this.repairing || plan.planning.replans < plan.policy.max_replans);
    if (!canRepair) {
      this.end(
        "fail",
        {
          category: error.category,
          reason: "step_failed",
          message: `step ${step.id} failed: ${error.message}`.slice(0, 4096),
        },
        `step ${step.id} failed`,
      );
      return;
    }
    if (plan.status === "paused") return;
    // Every step of this version that failed goes to the planner: one repair covers them all.
    const failed = plan.steps.filter((s) => s.status === "failed");
    plan.planning = {
      ...plan.planning,
      round: "repair",
      attempts: 1,
      replans: plan.planning.replans + (this.repairing ? 0 : 1),
      feedback: failed
        .map((s) => `step ${s.id} failed (${s.error?.reason}): ${s.error?.message}`)
        .join("\n")
        .slice(0, 8_192),
    };
    if (plan.status === "running")
      this.movePlan("repair", `step ${step.id} failed: replan ${plan.planning.replans}`);
    this.repairing = true;
    this.askPlanner();
  }

  /** A step that failed for good while the plan was paused is repaired when it resumes. */
  private repairHeld() {
    const failed = this.plan.steps.find((s) => s.status === "failed");
    if (failed)
      this.repairOrFail(
        failed,
        failed.error ?? { category: "internal", reason: "failed", message: "the step failed" },
      );
  }

  // --- approvals -----------------------------------------------------------------------------

  private request(stepId: string | null): Approval {
    const plan = this.plan;
    const timeout = plan.policy.approval_timeout_ms;
    const approval: Approval = {
      // A step may be named `plan`: the plan's own approval has a form no step's id can take.
      approval_id:
        stepId === null
          ? `${plan.plan_id}:${plan.version}`
          : `${plan.plan_id}:${stepId}:${plan.version}`,
      plan_id: plan.plan_id,
      step_id: stepId,
      status: "pending",
      requested_at: this.iso(),
      deadline: timeout === null ? null : new Date(this.context.now + timeout).toISOString(),
      decided_by: null,
      decided_at: null,
      reason: null,
    };
    this.emit("approval_requested", {
      approval_id: approval.approval_id,
      plan_id: plan.plan_id,
      step_id: stepId,
      deadline: approval.deadline,
    });
    return approval;
  }

  private decide(
    input: { approval_id: string; step_id: string | null; by: string },
    on: "approve" | "reject",
    reason: string | null,
  ) {
    const plan = this.plan;
    const { step_id: stepId, by } = input;
    const step = stepId === null ? null : this.step(stepId);
    if (stepId !== null && !step) return this.refuse(`plan ${plan.plan_id} has no step ${stepId}`);
    const approval = step ? step.approval : plan.approval;
    const what = `${step ? `step ${stepId}` : "the plan"} of plan ${plan.plan_id}`;
    if (approval?.status !== "pending") return this.refuse(`nothing awaits approval on ${what}`);
    // A repair replaces steps, and the new version's step may carry the old one's id: a decision
    // taken on the old step's approval is not one on the new step's.
    if (approval.approval_id !== input.approval_id)
      return this.refuse(`approval ${input.approval_id} is not the one ${what} awaits`);
    // Past its deadline an approval is expired (a rejection) even before the timer says so.
    if (approval.deadline !== null && Date.parse(approval.deadline) <= this.context.now)
      return this.refuse(`approval ${approval.approval_id} expired at ${approval.deadline}`);
    this.settleApproval(approval, on, by, reason);
    if (!step) {
      if (on === "approve") {
        plan.started_at ??= this.iso();
        return this.movePlan("approve", `approved by ${by}`);
      }
      return this.end(
        "reject",
        {
          category: "policy",
          reason: "plan_rejected",
          message: `rejected by ${by}${reason ? `: ${reason}` : ""}`,
        },
        `rejected by ${by}`,
      );
    }
    if (on === "approve") return this.moveStep(step, "approve", null);
    this.stepRejected(step, `rejected by ${by}${reason ? `: ${reason}` : ""}`);
  }

  private stepRejected(step: PlanStep, message: string) {
    const error: RunError = { category: "policy", reason: "step_rejected", message };
    this.moveStep(step, "reject", error);
    const policy = this.plan.policy.on_reject;
    // A step waiting for its approval is not kept by a repair: one already asked for replaces it
    // (one asked for in this step hears of it too).
    if (policy === "replan" && this.plan.status === "replanning" && !this.repairing) return;
    if (policy === "replan") this.repairOrFail(step, error);
    else
      this.end(
        "fail",
        { ...error, message: `step ${step.id} ${message}` },
        `step ${step.id} rejected`,
      );
  }

  private settleApproval(
    approval: Approval,
    on: ApprovalEvent,
    by: string | null,
    reason: string | null,
  ) {
    approval.status = mustTransition(approvalMachine, approval.status, on);
    approval.decided_by = by;
    approval.decided_at = this.iso();
    approval.reason = reason;
    this.emit("approval_decided", {
      approval_id: approval.approval_id,
      plan_id: this.plan.plan_id,
      step_id: approval.step_id,
      status: approval.status,
      by,
      reason,
    });
  }

  // --- steps and their runs ------------------------------------------------------------------

  /** Unblocks steps whose dependencies completed, starts ready ones, completes the plan. */
  private advance() {
    const plan = this.plan;
    if (plan.status !== "running" && plan.status !== "paused") return;
    const done = new Set(plan.steps.filter((s) => s.status === "completed").map((s) => s.id));
    for (const step of plan.steps) {
      if (step.status !== "waiting" || !step.depends_on.every((d) => done.has(d))) continue;
      if (step.requires_approval) {
        step.approval = this.request(step.id);
        this.moveStep(step, "gate", null);
      } else this.moveStep(step, "unblock", null);
    }
    if (plan.status === "paused") return;
    let running = plan.steps.filter((s) => s.status === "running").length;
    for (const step of plan.steps) {
      if (plan.status !== "running") return;
      if (step.status !== "ready") continue;
      if (running >= plan.policy.max_parallel) break;
      this.start(step);
      if ((step.status as StepStatus) === "running") running += 1;
    }
    if (plan.steps.length > 0 && plan.steps.every((s) => s.status === "completed")) {
      plan.finished_at = this.iso();
      this.movePlan("complete", `all ${plan.steps.length} steps completed`);
    }
  }

  private start(step: PlanStep) {
    const plan = this.plan;
    const params = this.params(step);
    if ("error" in params) {
      this.moveStep(step, "fail", params.error);
      this.repairOrFail(step, params.error);
      return;
    }
    step.attempt += 1;
    step.started_at ??= this.iso();
    this.moveStep(step, "start", null);
    this.effects.push({
      type: "submit",
      step_id: step.id,
      attempt: step.attempt,
      idempotency_key: `plan:${plan.plan_id}:v${step.version}:${step.id}:${step.attempt}`,
      intent: {
        type: step.type,
        params: params.value,
        targets: step.targets,
        budget: this.budgetFor(step),
        deadline: plan.deadline,
      },
    });
  }

  /** The step's params with its inputs filled in from the results of the steps it took them from. */
  private params(step: PlanStep): { value: Record<string, JsonValue> } | { error: RunError } {
    const value: Record<string, JsonValue> = { ...step.params };
    for (const [name, input] of Object.entries(step.inputs)) {
      const from = this.step(input.step);
      const fail = (message: string): { error: RunError } => ({
        error: {
          category: "invalid_intent",
          reason: "step_input",
          message: `input '${name}': ${message}`,
        },
      });
      if (from?.status !== "completed" || from.result === null)
        return fail(`step ${input.step} has no result`);
      if (input.path === undefined) {
        value[name] = from.result;
        continue;
      }
      let parsed: JsonValue;
      try {
        parsed = JSON.parse(from.result) as JsonValue;
      } catch {
        return fail(`step ${input.step}'s result is not JSON, so it has no ${input.path}`);
      }
      const found = pointer(parsed, input.path);
      if (found === undefined)
        return fail(`step ${input.step}'s result has nothing at ${input.path}`);
      value[name] = found;
    }
    return { value };
  }

  /** A step's run limits: its own, capped by what is left of the plan's budget. */
  private budgetFor(step: PlanStep): BudgetLimits {
    const plan = this.plan;
    const used = planUsage(plan);
    const out: BudgetLimits = { ...step.budget };
    if (plan.budget.max_tokens !== undefined) {
      const left = Math.max(0, plan.budget.max_tokens - used.tokens_in - used.tokens_out);
      out.max_tokens = Math.min(out.max_tokens ?? left, left);
    }
    if (plan.budget.max_cost_usd !== undefined) {
      const left = Math.max(0, plan.budget.max_cost_usd - pricedSpend(plan));
      out.max_cost_usd = Math.min(out.max_cost_usd ?? left, left);
    }
    return out;
  }

  private submitted(input: Extract<PlanInput, { type: "submitted" }>) {
    const step = this.step(input.step_id);
    if (step?.status !== "running" || step.attempt !== input.attempt) return;
    if (step.runs.some((r) => r.run_id === input.run_id)) return;
    step.runs.push({
      run_id: input.run_id,
      intent_id: input.intent_id,
      attempt: input.attempt,
      status: "pending",
      usage: emptyUsage(),
    });
    this.emitStep(step);
  }

  private runChanged(run: RunState, pricedUsd: number | undefined) {
    const found = this.runOf(run.run_id);
    if (!found) return;
    const { step, entry } = found;
    entry.usage = run.usage;
    entry.priced_usd = pricedUsd ?? run.usage.cost_usd ?? 0;
    entry.status = run.status;
    if (!SETTLED_RUN.includes(run.status)) return;
    if (isTerminal(planMachine, this.plan.status)) return;
    const current = step.runs.at(-1) === entry && step.status === "running";
    if (!current) return;
    if (run.status === "completed") {
      step.result = run.result;
      step.finished_at = this.iso();
      this.moveStep(step, "complete", null);
      return;
    }
    this.attemptEnded(
      step.id,
      run.error ?? { category: "internal", reason: run.status, message: `the run ${run.status}` },
    );
  }

  /** An attempt of a running step failed: another attempt, or the step fails for good. */
  private attemptEnded(stepId: string, error: RunError) {
    const step = this.step(stepId);
    if (step?.status !== "running") return;
    step.error = error;
    const again = step.attempt < step.max_attempts && error.category !== "invalid_intent";
    if (again) return this.moveStep(step, "retry", error);
    step.finished_at = this.iso();
    this.moveStep(step, "fail", error);
    this.repairOrFail(step, error);
  }

  // --- limits ----------------------------------------------------------------------------------

  private tick() {
    const plan = this.plan;
    const now = this.context.now;
    if (plan.deadline !== null && Date.parse(plan.deadline) <= now)
      return this.end(
        "fail",
        {
          category: "budget_exceeded",
          reason: "budget_exceeded",
          message: `the plan's wall-time budget of ${plan.budget.max_wall_ms} ms ran out`,
        },
        "wall-time budget exceeded",
      );
    const expired = (a: Approval | null) =>
      a?.status === "pending" && a.deadline !== null && Date.parse(a.deadline) <= now;
    if (expired(plan.approval)) {
      this.settleApproval(plan.approval!, "expire", null, "no decision before the deadline");
      return this.end(
        "reject",
        { category: "policy", reason: "approval_expired", message: "the plan's approval expired" },
        "approval expired",
      );
    }
    for (const step of plan.steps)
      if (expired(step.approval)) {
        this.settleApproval(step.approval!, "expire", null, "no decision before the deadline");
        this.stepRejected(step, "was not approved before its deadline");
        if (isTerminal(planMachine, plan.status)) return;
      }
  }

  private checkBudget() {
    const plan = this.plan;
    const used = planUsage(plan);
    const tokens = used.tokens_in + used.tokens_out;
    const spent = pricedSpend(plan);
    const overTokens = plan.budget.max_tokens !== undefined && tokens > plan.budget.max_tokens;
    const overCost = plan.budget.max_cost_usd !== undefined && spent > plan.budget.max_cost_usd;
    if (!overTokens && !overCost) return;
    this.end(
      "fail",
      {
        category: "budget_exceeded",
        reason: "budget_exceeded",
        message: overTokens
          ? `the plan used ${tokens} tokens of its ${plan.budget.max_tokens}`
          : `the plan spent $${Number(spent.toFixed(6))} of its $${plan.budget.max_cost_usd}`,
      },
      "budget exceeded",
    );
  }

  // --- shared moves ----------------------------------------------------------------------------

  /** Ends the plan: open steps are cancelled, running ones and their runs stopped. */
  private end(on: "fail" | "cancel" | "reject", error: RunError | null, reason: string) {
    const plan = this.plan;
    for (const step of plan.steps) {
      if (step.status === "running") {
        const run = step.runs.at(-1);
        if (run)
          this.effects.push({ type: "cancel_run", run_id: run.run_id, reason: `plan ${reason}` });
        this.moveStep(step, "cancel", null);
      } else if (OPEN_STEP.includes(step.status)) this.moveStep(step, "cancel", null);
      if (step.approval?.status === "pending")
        this.settleApproval(step.approval, "withdraw", null, reason);
    }
    // Replaced steps hold no pending approval since repairs withdraw theirs; a plan stored before
    // that may still hold one, which ends here with its plan.
    for (const { steps } of plan.history)
      for (const step of steps)
        if (step.approval?.status === "pending")
          this.settleApproval(step.approval, "withdraw", null, reason);
    if (plan.approval?.status === "pending" && on !== "reject")
      this.settleApproval(plan.approval, "withdraw", null, reason);
    plan.error = error;
    plan.finished_at = this.iso();
    this.movePlan(on, reason);
  }

  /** The plan's first event: it exists and is being planned (its given steps checked). */
  private created() {
    const plan = this.plan;
    this.emit("plan_status", {
      plan_id: plan.plan_id,
      status: plan.status,
      version: plan.version,
      reason: `created by ${plan.created_by}`,
      error: null,
      usage: planUsage(plan),
    });
  }

  private movePlan(on: PlanEvent, reason: string) {
    const plan = this.plan;
    plan.status = mustTransition(planMachine, plan.status, on) as PlanStatus;
    this.emit("plan_status", {
      plan_id: plan.plan_id,
      status: plan.status,
      version: plan.version,
      reason: reason.slice(0, 1024),
      error: plan.error,
      usage: planUsage(plan),
    });
  }

  private moveStep(step: PlanStep, on: StepEvent, error: RunError | null) {
    step.status = mustTransition(stepMachine, step.status, on);
    if (error) step.error = error;
    this.emitStep(step);
  }

  private emitStep(step: PlanStep) {
    this.emit("plan_step", {
      plan_id: this.plan.plan_id,
      step_id: step.id,
      version: step.version,
      status: step.status,
      attempt: step.attempt,
      run_id: step.runs.at(-1)?.run_id ?? null,
      error: step.status === "completed" ? null : step.error,
    });
  }

  private emit<K extends EventKind>(kind: K, payload: EventPayload<K>): void {
    const event = {
      event_id: this.context.newEventId(),
      tenant: this.plan.tenant,
      run_id: null,
      agent_id: CENTRAL_AGENT_ID,
      source: "central",
      seq: this.seq++,
      attempt: null,
      kind,
      payload,
      ts: this.iso(),
    } as AgentEvent;
    this.effects.push({ type: "emit", event });
  }

  private step(id: string): PlanStep | undefined {
    return this.plan.steps.find((s) => s.id === id);
  }

  private runOf(runId: string): { step: PlanStep; entry: StepRun } | null {
    for (const step of allSteps(this.plan)) {
      const entry = step.runs.find((r) => r.run_id === runId);
      if (entry) return { step, entry };
    }
    return null;
  }

  private refuse(message: string) {
    this.refusal = message;
  }

  private iso(): string {
    return new Date(this.context.now).toISOString();
  }
}

/** Every step of the plan: the current version's, then those replaced versions held. */
export function allSteps(plan: Pick<Plan, "steps" | "history">): PlanStep[] {
  return [...plan.steps, ...plan.history.flatMap((h) => h.steps)];
}

/** A plan's consumption: its planning calls and every run of every step, replaced ones included. */
export function planUsage(plan: Pick<Plan, "planning" | "steps" | "history">): Usage {
  let total = plan.planning.usage;
  for (const step of allSteps(plan))
    for (const run of step.runs) total = addUsage(total, run.usage);
  return total;
}

/** A step's work is under way: running, or ready again for the next attempt after one failed. */
export function isUnderway(step: Pick<PlanStep, "status" | "attempt">): boolean {
  return step.status === "running" || (step.status === "ready" && step.attempt > 0);
}

/** What a repair keeps of a version: its completed steps and those under way; the rest is replaced. */
export function isKept(step: Pick<PlanStep, "status" | "attempt">): boolean {
  return step.status === "completed" || isUnderway(step);
}

/**
 * What a plan's USD budget counts: the priced calls of its planning and of every run. An
 * unpriced call (a local model) makes the usage's total unknown, never the budget void.
 */
function pricedSpend(plan: Plan): number {
  let total = planningPriced(plan.planning);
  for (const step of allSteps(plan))
    for (const run of step.runs) total += run.priced_usd ?? run.usage.cost_usd ?? 0;
  return total;
}

/** Plans stored before `priced_usd` was kept count their planning's priced total, if any. */
function planningPriced(planning: Plan["planning"]): number {
  return planning.priced_usd ?? planning.usage.cost_usd ?? 0;
}

/** The earliest time the plan must be looked at again (its deadline, an approval's), or null. */
export function planDue(plan: Plan): number | null {
  if (isTerminal(planMachine, plan.status)) return null;
  const due: number[] = [];
  if (plan.deadline !== null) due.push(Date.parse(plan.deadline));
  for (const a of [plan.approval, ...plan.steps.map((s) => s.approval)])
    if (a?.status === "pending" && a.deadline !== null) due.push(Date.parse(a.deadline));
  return due.length ? Math.min(...due) : null;
}

/**
 * RFC 6901 JSON pointer: own members only (`/constructor` in `{}` is nothing, not Object's
 * constructor), array indices only as the RFC writes them (`/01`, `/1e0` and `/` name none).
 */
function pointer(value: JsonValue, path: string): JsonValue | undefined {
  let at: JsonValue | undefined = value;
  for (const raw of path.split("/").slice(1)) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(at)) at = /^(0|[1-9][0-9]*)$/.test(key) ? at[Number(key)] : undefined;
    else if (at !== null && typeof at === "object") at = own(at, key);
    else return undefined;
  }
  return at;
}
