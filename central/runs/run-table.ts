import { and, asc, desc, eq, inArray, isNotNull, isNull, lt, lte, min, or, sql } from "drizzle-orm";
import {
  type Intent,
  type IntentInfo,
  type IntentList,
  type IntentStatus,
  type IntentsQuery,
  nextDue,
  queuedRun,
  type RunLife,
  type RunList,
  type RunSettings,
  type RunsQuery,
  runStateOf,
  type WaitingView,
} from "../../contract";
import type { Database } from "../db/database";
import { page } from "../db/page";
import { intents, runs } from "../db/schema";

export type IntentRow = typeof intents.$inferSelect;

/**
 * Intents and the lives of their runs in SQLite. A run's life is one JSON document the fold
 * (contract/runs) produces; the columns beside it are written from it on every save, so the
 * queue, the timer and the list query select on what the fold decided, never on a second copy
 * of the rules.
 */
export class RunTable {
  constructor(
    private readonly db: Database,
    private readonly tenant: string,
  ) {}

  /**
   * Records a submitted intent and its queued run, atomically. `requestDigest`: the submitted
   * request's digest, which a repeated idempotency_key must match.
   */
  create(
    intent: Intent,
    principal: string,
    now: number,
    runId: string,
    options: { settings: RunSettings; requestDigest: string | null },
  ): RunLife {
    const life = queuedRun({ run_id: runId, tenant: this.tenant, intent, now });
    this.db.transaction((tx) => {
      tx.insert(intents)
        .values({
          intentId: intent.intent_id,
          status: life.intent_status,
          intent,
          idempotencyKey: intent.idempotency_key ?? null,
          requestDigest: options.requestDigest,
          principal,
          createdAt: now,
        })
        .run();
      tx.insert(runs)
        .values(this.row(life, options.settings, now))
        .run();
    });
    return life;
  }

  get(runId: string): RunLife | undefined {
    return this.db.select({ life: runs.life }).from(runs).where(eq(runs.runId, runId)).get()?.life;
  }

  /** Writes the run's life and what is selected on; its intent follows the run's status. */
  save(life: RunLife, settings: RunSettings, now: number): void {
    const row = this.row(life, settings, now);
    this.db
      .insert(runs)
      .values(row)
      .onConflictDoUpdate({ target: runs.runId, set: { ...row, runId: undefined } })
      .run();
    if (life.intent_id !== null)
      this.db
        .update(intents)
        .set({ status: life.intent_status })
        .where(eq(intents.intentId, life.intent_id))
        .run();
  }

  intent(intentId: string): IntentRow | undefined {
    return this.db.select().from(intents).where(eq(intents.intentId, intentId)).get();
  }

  intentByKey(key: string): IntentRow | undefined {
    return this.db.select().from(intents).where(eq(intents.idempotencyKey, key)).get();
  }

  runOfIntent(intentId: string): RunLife | undefined {
    return this.db
      .select({ life: runs.life })
      .from(runs)
      .where(eq(runs.intentId, intentId))
      .orderBy(desc(runs.runId))
      .get()?.life;
  }

  /** Queued runs central owns whose backoff has passed, oldest first: the dispatch queue. */
  queueIds(now: number): string[] {
    return this.ids(
      and(
        eq(runs.status, "pending"),
        eq(runs.owner, "central"),
        or(isNull(runs.retryAt), lte(runs.retryAt, now)),
      ),
      asc(runs.createdAt),
    );
  }

  /** How many runs are in each status, per app (null before a run has one). */
  statusCounts(): { status: string; app: string | null; runs: number }[] {
    return this.db
      .select({ status: runs.status, app: runs.app, runs: sql<number>`count(*)` })
      .from(runs)
      .groupBy(runs.status, runs.app)
      .all();
  }

  /** Runs waiting in central's queue (ready or in a retry's backoff), and the oldest one's age. */
  queueDepth(): { runs: number; oldestCreatedAt: number | null } {
    const row = this.db
      .select({ runs: sql<number>`count(*)`, oldest: min(runs.createdAt) })
      .from(runs)
      .where(and(eq(runs.status, "pending"), eq(runs.owner, "central")))
      .get();
    return { runs: row?.runs ?? 0, oldestCreatedAt: row?.oldest ?? null };
  }

  /** Runs an agent holds (dispatched to it or claimed by it). */
  heldBy(agentId: string): RunLife[] {
    return this.lives(eq(runs.holder, agentId));
  }

  /** The ids of the runs each agent holds. */
  heldRunIds(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    const rows = this.db
      .select({ agent: runs.holder, run: runs.runId })
      .from(runs)
      .where(isNotNull(runs.holder))
      .all();
    for (const { agent, run } of rows) out.set(agent!, [...(out.get(agent!) ?? []), run]);
    return out;
  }

  /** How many runs each agent holds. */
  loads(): Map<string, number> {
    const rows = this.db
      .select({ agent: runs.holder, n: sql<number>`count(*)` })
      .from(runs)
      .where(isNotNull(runs.holder))
      .groupBy(runs.holder)
      .all();
    return new Map(rows.map((r) => [r.agent!, r.n]));
  }

  /** Runs whose timer is at or before `now`, earliest first. */
  dueIds(now: number): string[] {
    return this.ids(lte(runs.dueAt, now), asc(runs.dueAt));
  }

  /** The earliest run timer. */
  nextDue(): number | null {
    return (
      this.db
        .select({ at: min(runs.dueAt) })
        .from(runs)
        .get()?.at ?? null
    );
  }

  /** After the tenant's timings changed, every open run's timer is set again. */
  rearmAll(settings: RunSettings, now: number): void {
    for (const life of this.lives(inArray(runs.status, ["pending", "dispatched", "running"])))
      this.save(life, settings, now);
  }

  list(query: RunsQuery, view: WaitingView): RunList {
    const where = and(
      query.status ? eq(runs.status, query.status) : undefined,
      query.app ? eq(runs.app, query.app) : undefined,
      query.agent ? eq(runs.agentId, query.agent) : undefined,
      query.intent ? eq(runs.intentId, query.intent) : undefined,
      query.before ? lt(runs.runId, query.before) : undefined,
    );
    const rows = this.db
      .select({ life: runs.life })
      .from(runs)
      .where(where)
      .orderBy(desc(runs.runId))
      .limit(query.limit + 1)
      .all();
    const shown = page(rows, query.limit, (r) => r.life.run_id);
    return { runs: shown.rows.map((r) => runStateOf(r.life, view)), next: shown.next };
  }

  /** Intents, newest first, each with its run; a page of large intents ends early (PAGE_BYTES). */
  listIntents(query: IntentsQuery, view: WaitingView): IntentList {
    const rows = this.db
      .select()
      .from(intents)
      .where(
        and(
          query.status ? eq(intents.status, query.status) : undefined,
          query.before ? lt(intents.intentId, query.before) : undefined,
        ),
      )
      .orderBy(desc(intents.intentId))
      .limit(query.limit + 1)
      .all();
    const infos = new Map(rows.map((row) => [row, this.intentInfo(row, view)]));
    const shown = page(
      rows,
      query.limit,
      (r) => r.intentId,
      (r) => infos.get(r),
    );
    return { intents: shown.rows.map((row) => infos.get(row)!), next: shown.next };
  }

  intentInfo(row: IntentRow, view: WaitingView): IntentInfo {
    const run = this.runOfIntent(row.intentId);
    return {
      intent: row.intent,
      status: row.status as IntentStatus,
      principal: row.principal,
      run: run ? runStateOf(run, view) : null,
    };
  }

  /** Lives with the given ids (one query). */
  many(ids: readonly string[]): RunLife[] {
    if (ids.length === 0) return [];
    return this.lives(inArray(runs.runId, [...ids]));
  }

  private ids(where: ReturnType<typeof and>, order: ReturnType<typeof asc>): string[] {
    return this.db
      .select({ id: runs.runId })
      .from(runs)
      .where(where)
      .orderBy(order, asc(runs.runId))
      .all()
      .map((r) => r.id);
  }

  private lives(where: ReturnType<typeof and>, order = asc(runs.runId)): RunLife[] {
    return this.db
      .select({ life: runs.life })
      .from(runs)
      .where(where)
      .orderBy(order, asc(runs.runId))
      .all()
      .map((r) => r.life);
  }

  private row(life: RunLife, settings: RunSettings, now: number): typeof runs.$inferInsert {
    const holding = life.status === "dispatched" || life.status === "running";
    return {
      runId: life.run_id,
      intentId: life.intent_id,
      owner: life.owner,
      status: life.status,
      app: life.app,
      agentId: life.agent_id,
      holder: holding ? (life.hold?.agent_id ?? null) : null,
      retryAt: life.retry_at,
      dueAt: nextDue(life, settings, now),
      createdAt: life.created_at,
      life,
    };
  }
}
