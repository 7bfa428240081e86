import {
  allSteps,
  checkPlanSteps,
  emptyUsage,
  Failure,
  isKept,
  isTerminal,
  type Plan,
  type PlanEffect,
  type PlanInput,
  type PlanStepSpec,
  type RunLife,
  type RunStatus,
  runMachine,
  runStateOf,
  stepPlan,
  uuidv7,
} from "../../contract";
import type { Scheduler } from "../dispatch/scheduler";
import type { EventLog } from "../events/event-log";
import type { AgentStore } from "../fleet/agent-store";
import { newIntent } from "../runs/new-intent";
import type { RunTable } from "../runs/run-table";
import type { TenantContext } from "../tenant/context";
import type { PlanTable } from "./plan-table";
import type { Planner, PlanningFleet } from "./planners/planner";

type Planners = Partial<Record<Exclude<Plan["planner"], "given">, Planner>>;

/**
 * Central as the owner of its plans, as RunOwner is of its runs. Whatever reaches a plan — a
 * planner's answer, one of its runs changing, a person's decision, the timer — goes through the
 * fold (contract/plans), and this does what the fold asks: the plan saved, its events appended,
 * its steps submitted as intents through the normal queue (one run per plan, version, step and
 * attempt, found again by idempotency key), runs cancelled, planners asked. Inputs that arise
 * while one is carried out (a step's run dispatched at once) wait their turn, so every input
 * folds over the plan as last saved.
 */
export class PlanOwner {
  private readonly queue: { planId: string; input: PlanInput }[] = [];
  private draining = false;
  /** Steps a client gave for a plan being submitted in this turn (planner `given`). */
  private readonly given = new Map<string, readonly PlanStepSpec[]>();
  /** What each open run of a plan last told it (see runChanged). */
  private readonly heard = new Map<string, string>();
  /** Plans whose planner is at work in this object's memory. */
  private readonly planning = new Set<string>();

  constructor(
    private readonly ctx: TenantContext,
    private readonly table: PlanTable,
    private readonly runs: RunTable,
    private readonly agents: AgentStore,
    private readonly scheduler: Scheduler,
    private readonly log: EventLog,
    private readonly planners: Planners,
  ) {}

  /** Starts a plan just created: it asks for its first version (given steps are taken at once). */
  start(plan: Plan, given: readonly PlanStepSpec[] | null): void {
    if (given) this.given.set(plan.plan_id, given);
    try {
      this.apply(plan.plan_id, { type: "start" });
    } finally {
      this.given.delete(plan.plan_id);
    }
  }

  /**
   * Applies one input to a plan and everything it causes. The refusal of that input (not of
   * what follows from it) is returned, or thrown as 409 with `strict`.
   */
  apply(planId: string, input: PlanInput, strict = false): string | null {
    this.queue.push({ planId, input });
    if (this.draining) return null;
    this.draining = true;
    let first: string | null | undefined;
    try {
      while (this.queue.length > 0) {
        const next = this.queue.shift()!;
        const refusal = this.fold(next.planId, next.input);
        if (first === undefined) first = refusal;
      }
    } finally {
      this.draining = false;
      this.queue.length = 0;
    }
    if (strict && first) throw new Failure(409, "conflict", first);
    return first ?? null;
  }

  /**
   * A run was saved: the plan it belongs to (if any) hears how it stands when that matters to
   * it: the run ended, or its consumption moved (the plan's budget). A run is saved several
   * times on its way (dispatched, acknowledged, claimed) and on every event its agent sends;
   * folding and writing a large plan for each of those would cost more than the step itself, so
   * the way a run goes until it ends is read when the plan is shown (view), not written.
   */
  runChanged(life: RunLife): void {
    const c = life.consumption;
    const mark = `${isTerminal(runMachine, life.status)}|${c.tokens_in}|${c.tokens_out}|${c.priced_usd}|${c.unpriced_calls}`;
    if (this.heard.get(life.run_id) === mark) return;
    const planId = this.table.planOfRun(life.run_id);
    if (!planId) return;
    if (isTerminal(runMachine, life.status)) this.heard.delete(life.run_id);
    else this.heard.set(life.run_id, mark);
    this.applyQuietly(planId, {
      type: "run",
      run: runStateOf(life, this.waitingView()),
      priced_usd: c.priced_usd,
    });
  }

  /**
   * A plan as the API shows it: each step's runs that the plan has not seen end yet with the
   * status they have now (pending, dispatched, running, or just ended), read from the runs
   * themselves, so following a run through the queue costs no plan write.
   */
  view(planId: string): Plan | undefined {
    const plan = this.table.get(planId);
    if (!plan) return undefined;
    const view = this.waitingView();
    for (const step of allSteps(plan))
      for (const run of step.runs) {
        if (isTerminal(runMachine, run.status as RunStatus)) continue;
        const life = this.runs.get(run.run_id);
        if (life) run.status = runStateOf(life, view).status;
      }
    return plan;
  }

  private waitingView() {
    return { now: this.ctx.now(), queue_timeout_ms: this.ctx.settings().dispatch.queue_timeout_ms };
  }

  /**
   * Applies an input that no request waits for (a run's change, the timer, a planner's answer):
   * a failure is logged against the plan, never thrown into the run, timer or socket path that
   * caused it.
   */
  private applyQuietly(planId: string, input: PlanInput): void {
    try {
      const refusal = this.apply(planId, input);
      if (refusal && input.type !== "run")
        this.ctx.log.warn("plan input refused", { plan_id: planId, input: input.type, refusal });
    } catch (error) {
      this.ctx.log.error("plan step failed", { plan_id: planId, input: input.type, error });
    }
  }

  /** Timer work: deadlines of plans and approvals. */
  processDue(): void {
    for (const planId of this.table.due(this.ctx.now()))
      this.applyQuietly(planId, { type: "tick" });
  }

  /** After a restart: planning rounds that were under way in memory are asked for again. */
  recover(): void {
    for (const planId of this.table.planning()) this.applyQuietly(planId, { type: "start" });
  }

  /** Whether plans may ask for this planner here. */
  offers(planner: Plan["planner"]): boolean {
    return planner === "given" || this.planners[planner] !== undefined;
  }

  /**
   * What the fleet offers planners and the checks: the agents that are not offline (away for
   * now, perhaps, but not gone) and their skills.
   */
  fleet(): PlanningFleet {
    return {
      agents: this.agents.live().map((a) => ({
        agent_id: a.agentId,
        app: a.app,
        skills: a.skills,
        capabilities: a.capabilities,
      })),
    };
  }

  private fold(planId: string, input: PlanInput): string | null {
    const plan = this.table.get(planId);
    if (!plan) return `no plan ${planId}`;
    const now = this.ctx.now();
    const result = stepPlan(plan, input, { now, newEventId: () => uuidv7(now) });
    if (result.refusal) return result.refusal;
    this.table.save(result.plan, plan);
    const emitted = result.effects.flatMap((e) => (e.type === "emit" ? [e.event] : []));
    if (emitted.length > 0) this.log.append(emitted);
    for (const effect of result.effects) this.carryOut(result.plan, effect);
    this.ctx.rearm();
    return null;
  }

  private carryOut(plan: Plan, effect: PlanEffect): void {
    if (effect.type === "submit") this.submit(plan, effect);
    else if (effect.type === "cancel_run") this.cancelRun(effect.run_id, effect.reason);
    else if (effect.type === "plan") this.ask(plan, effect);
  }

  private submit(plan: Plan, effect: Extract<PlanEffect, { type: "submit" }>): void {
    const step = { step_id: effect.step_id, attempt: effect.attempt };
    const earlier = this.runs.intentByKey(effect.idempotency_key);
    if (earlier) {
      const life = this.runs.runOfIntent(earlier.intentId)!;
      this.table.linkRun(life.run_id, plan.plan_id, effect.step_id);
      this.queue.push({
        planId: plan.plan_id,
        input: { type: "submitted", ...step, run_id: life.run_id, intent_id: earlier.intentId },
      });
      this.runChanged(life);
      return;
    }
    const now = this.ctx.now();
    const intent = newIntent(
      {
        ...effect.intent,
        idempotency_key: effect.idempotency_key,
        deadline: effect.intent.deadline ?? undefined,
      },
      this.ctx.tenant,
      plan.created_by,
      now,
    );
    const life = this.runs.create(intent, plan.created_by, now, uuidv7(now), {
      settings: this.ctx.settings(),
      requestDigest: null,
    });
    this.table.linkRun(life.run_id, plan.plan_id, effect.step_id);
    this.queue.push({
      planId: plan.plan_id,
      input: { type: "submitted", ...step, run_id: life.run_id, intent_id: intent.intent_id },
    });
    this.scheduler.tryDispatch(life);
  }

  private cancelRun(runId: string, reason: string): void {
    try {
      this.scheduler.cancel(runId, reason, null);
    } catch (error) {
      // It ended on its own meanwhile: nothing to stop.
      if (!(error instanceof Failure)) throw error;
    }
  }

  /** The steps a repair builds on as they are now (new steps may wait for those under way). */
  private kept(planId: string) {
    const steps = this.table.get(planId, { results: false })?.steps ?? [];
    return steps.filter(isKept);
  }

  /** Asks the plan's planner; its answer is checked against the fleet and folded in. */
  private ask(plan: Plan, effect: Extract<PlanEffect, { type: "plan" }>): void {
    const planId = plan.plan_id;
    if (plan.planner === "given") {
      const steps = this.given.get(planId);
      this.queue.push({
        planId,
        input: steps
          ? { type: "planned", steps, usage: emptyUsage() }
          : {
              type: "planning_failed",
              error: "a given plan has no planner to ask again",
              usage: emptyUsage(),
            },
      });
      return;
    }
    const planner = this.planners[plan.planner];
    if (!planner) {
      this.queue.push({
        planId,
        input: {
          type: "planning_failed",
          error: `planner '${plan.planner}' is not available here`,
          usage: emptyUsage(),
        },
      });
      return;
    }
    if (this.planning.has(planId)) return;
    this.planning.add(planId);
    const fleet = this.fleet();
    const answers = { replan: effect.replan, attempt: effect.attempt };
    const answered = planner
      .plan({
        plan,
        round: effect.round,
        attempt: effect.attempt,
        feedback: effect.feedback,
        fleet,
      })
      .then(
        (answer): PlanInput => {
          if (!answer.ok)
            return { type: "planning_failed", error: answer.error, usage: answer.usage, answers };
          // Checked against the steps kept as they are now: one may have ended while planning.
          const issues = checkPlanSteps(answer.steps, fleet, this.kept(planId));
          if (issues.length > 0)
            return {
              type: "planning_failed",
              error: `the plan was refused: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
              usage: answer.usage,
              answers,
            };
          return {
            type: "planned",
            steps: answer.steps,
            usage: answer.usage,
            answers,
            ...(answer.solver ? { solver: answer.solver } : {}),
            ...(answer.note ? { note: answer.note } : {}),
          };
        },
        (error: unknown): PlanInput => {
          this.ctx.log.error("planner failed", { plan_id: planId, error });
          return {
            type: "planning_failed",
            error: `the planner failed: ${error instanceof Error ? error.message : String(error)}`,
            usage: emptyUsage(),
            answers,
          };
        },
      );
    void answered.then((input) => {
      this.planning.delete(planId);
      this.applyQuietly(planId, input);
    });
  }
}
