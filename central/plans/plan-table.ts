import { and, asc, desc, eq, inArray, lt, lte, min } from "drizzle-orm";
import {
  type Approval,
  type ApprovalList,
  type ApprovalsQuery,
  allSteps,
  type Plan,
  type PlanList,
  type PlanStep,
  type PlanSummary,
  type PlansQuery,
  planDue,
  planUsage,
} from "../../contract";
import type { Database } from "../db/database";
import { page } from "../db/page";
import { approvals, planResults, planRuns, plans } from "../db/schema";

export type PlanRow = typeof plans.$inferSelect;

/**
 * Plans in SQLite. A plan is one JSON document the fold (contract/plans) produces; the columns
 * beside it, its approvals' rows and nothing else are written from it on every save, so the
 * timer and the lists select on what the fold decided. Its steps' results are kept in rows of
 * their own (`plan_results`) and put back into the plan when it is read.
 */
export class PlanTable {
  /** For each plan read, the results plan_results already holds (version:step). */
  private readonly stored = new WeakMap<Plan, Set<string>>();

  constructor(private readonly db: Database) {}

  create(plan: Plan, options: { idempotencyKey: string | null; requestDigest: string }): void {
    this.db
      .insert(plans)
      .values({
        ...this.columns(plan),
        idempotencyKey: options.idempotencyKey,
        requestDigest: options.requestDigest,
        createdAt: Date.parse(plan.created_at),
      })
      .run();
    this.saveResults(plan);
    this.saveApprovals(plan);
  }

  /** The plan; with `results: false` its steps' results are left out (null), to read it cheaply. */
  get(planId: string, options: { results: boolean } = { results: true }): Plan | undefined {
    const row = this.db
      .select({ plan: plans.plan })
      .from(plans)
      .where(eq(plans.planId, planId))
      .get();
    if (!row) return undefined;
    return options.results ? this.withResults(row.plan) : row.plan;
  }

  byKey(key: string): PlanRow | undefined {
    return this.db.select().from(plans).where(eq(plans.idempotencyKey, key)).get();
  }

  /** Saves the plan; `before` (the plan as read) spares writing the results already stored. */
  save(plan: Plan, before?: Plan): void {
    this.db.update(plans).set(this.columns(plan)).where(eq(plans.planId, plan.plan_id)).run();
    this.saveResults(plan, before);
    this.saveApprovals(plan);
  }

  /** Records that `runId` is an attempt of `stepId` of `planId`. */
  linkRun(runId: string, planId: string, stepId: string): void {
    this.db.insert(planRuns).values({ runId, planId, stepId }).onConflictDoNothing().run();
  }

  /** The plan a run belongs to, if any. */
  planOfRun(runId: string): string | null {
    return (
      this.db
        .select({ plan: planRuns.planId })
        .from(planRuns)
        .where(eq(planRuns.runId, runId))
        .get()?.plan ?? null
    );
  }

  /** Plans whose timer is at or before `now`. */
  due(now: number): string[] {
    return this.db
      .select({ planId: plans.planId })
      .from(plans)
      .where(lte(plans.dueAt, now))
      .orderBy(asc(plans.dueAt))
      .all()
      .map((r) => r.planId);
  }

  nextDue(): number | null {
    return (
      this.db
        .select({ at: min(plans.dueAt) })
        .from(plans)
        .get()?.at ?? null
    );
  }

  /** Plans whose planner was at work (it runs in memory, so a restart must ask it again). */
  planning(): string[] {
    return this.db
      .select({ planId: plans.planId })
      .from(plans)
      .where(inArray(plans.status, ["planning", "replanning"]))
      .all()
      .map((r) => r.planId);
  }

  list(query: PlansQuery): PlanList {
    const rows = this.db
      .select({ plan: plans.plan })
      .from(plans)
      .where(
        and(
          query.status ? eq(plans.status, query.status) : undefined,
          query.before ? lt(plans.planId, query.before) : undefined,
        ),
      )
      .orderBy(desc(plans.planId))
      .limit(query.limit + 1)
      .all();
    const shown = page(rows, query.limit, (r) => r.plan.plan_id);
    return { plans: shown.rows.map((r) => summary(r.plan)), next: shown.next };
  }

  approval(approvalId: string): Approval | undefined {
    return this.db
      .select({ approval: approvals.approval })
      .from(approvals)
      .where(eq(approvals.approvalId, approvalId))
      .get()?.approval;
  }

  approvals(query: ApprovalsQuery): ApprovalList {
    const rows = this.db
      .select({ approval: approvals.approval })
      .from(approvals)
      .where(
        and(
          eq(approvals.status, query.status),
          query.plan ? eq(approvals.planId, query.plan) : undefined,
          query.before ? lt(approvals.approvalId, query.before) : undefined,
        ),
      )
      .orderBy(desc(approvals.approvalId))
      .limit(query.limit + 1)
      .all();
    const shown = page(rows, query.limit, (r) => r.approval.approval_id);
    return { approvals: shown.rows.map((r) => r.approval), next: shown.next };
  }

  private columns(plan: Plan) {
    return { planId: plan.plan_id, status: plan.status, dueAt: planDue(plan), plan: lean(plan) };
  }

  /** A step's result is set once, when it completes: only those not stored yet are written. */
  private saveResults(plan: Plan, before?: Plan): void {
    const had = (before && this.stored.get(before)) ?? new Set<string>();
    for (const step of allSteps(plan)) {
      if (step.result === null || had.has(`${step.version}:${step.id}`)) continue;
      this.db
        .insert(planResults)
        .values({
          planId: plan.plan_id,
          version: step.version,
          stepId: step.id,
          result: step.result,
        })
        .onConflictDoUpdate({
          target: [planResults.planId, planResults.version, planResults.stepId],
          set: { result: step.result },
        })
        .run();
    }
  }

  /** The plan with its steps' results put back (a plan stored before they moved has its own). */
  private withResults(plan: Plan): Plan {
    const rows = this.db
      .select({
        version: planResults.version,
        stepId: planResults.stepId,
        result: planResults.result,
      })
      .from(planResults)
      .where(eq(planResults.planId, plan.plan_id))
      .all();
    const results = new Map(rows.map((r) => [`${r.version}:${r.stepId}`, r.result]));
    this.stored.set(plan, new Set(results.keys()));
    if (rows.length === 0) return plan;
    for (const step of allSteps(plan))
      step.result = results.get(`${step.version}:${step.id}`) ?? step.result;
    return plan;
  }

  private saveApprovals(plan: Plan): void {
    const all = [plan.approval, ...plan.steps.map((s) => s.approval)];
    for (const old of plan.history) all.push(...old.steps.map((s) => s.approval));
    for (const a of all) {
      if (!a) continue;
      const row = {
        approvalId: a.approval_id,
        planId: a.plan_id,
        status: a.status,
        requestedAt: a.requested_at,
        approval: a,
      };
      this.db
        .insert(approvals)
        .values(row)
        .onConflictDoUpdate({
          target: approvals.approvalId,
          set: { status: a.status, approval: a },
        })
        .run();
    }
  }
}

/** The plan as its row holds it: without its steps' results (plan_results has them). */
function lean(plan: Plan): Plan {
  const bare = (steps: PlanStep[]) =>
    steps.map((s) => (s.result === null ? s : { ...s, result: null }));
  return {
    ...plan,
    steps: bare(plan.steps),
    history: plan.history.map((h) => ({ ...h, steps: bare(h.steps) })),
  };
}

export function summary(plan: Plan): PlanSummary {
  return {
    plan_id: plan.plan_id,
    goal: plan.goal,
    planner: plan.planner,
    status: plan.status,
    version: plan.version,
    steps: plan.steps.length,
    steps_completed: plan.steps.filter((s) => s.status === "completed").length,
    usage: planUsage(plan),
    created_by: plan.created_by,
    created_at: plan.created_at,
    finished_at: plan.finished_at,
  };
}
