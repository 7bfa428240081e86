import { and, asc, desc, eq, inArray, isNotNull, isNull, lt, lte, or, sql } from "drizzle-orm";
import {
  addUsage,
  emptyUsage,
  type Intent,
  type IntentInfo,
  type IntentList,
  type IntentStatus,
  type IntentsQuery,
  type RunList,
  type RunState,
  type RunStatus,
  type RunsQuery,
} from "../../contract";
import type { Database } from "../db/database";
import { intents, runs } from "../db/schema";
import { iso, isoOrNull } from "../tenant/context";

export type RunRow = typeof runs.$inferSelect;
export type IntentRow = typeof intents.$inferSelect;

export const ACTIVE_RUN_STATUSES: RunStatus[] = ["dispatched", "running"];

/** Intents and their runs in SQLite, and their contract shapes. */
export class RunStore {
  constructor(
    private readonly db: Database,
    private readonly tenant: string,
  ) {}

  /** `requestDigest`: the submitted request's digest, which a repeated idempotency_key must match. */
  create(
    intent: Intent,
    principal: string,
    now: number,
    runId: string,
    requestDigest: string | null = null,
  ): RunRow {
    const run: RunRow = {
      runId,
      intentId: intent.intent_id,
      status: "pending",
      app: null,
      agentId: null,
      attempt: 0,
      treeRef: null,
      leaseAgent: null,
      leaseAttempt: null,
      leaseExpiresAt: null,
      ackDeadline: null,
      acked: false,
      retryAt: null,
      deadline: intent.deadline ? Date.parse(intent.deadline) : null,
      createdAt: now,
      dispatchedAt: null,
      startedAt: null,
      finishedAt: null,
      usagePrior: emptyUsage(),
      usageAttempt: emptyUsage(),
      error: null,
      result: null,
      triedAgents: [],
      centralSeq: 0,
    };
    this.db.transaction((tx) => {
      tx.insert(intents)
        .values({
          intentId: intent.intent_id,
          status: "queued",
          intent,
          idempotencyKey: intent.idempotency_key ?? null,
          requestDigest,
          principal,
          createdAt: now,
        })
        .run();
      tx.insert(runs).values(run).run();
    });
    return run;
  }

  intent(intentId: string): IntentRow | undefined {
    return this.db.select().from(intents).where(eq(intents.intentId, intentId)).get();
  }

  intentByKey(key: string): IntentRow | undefined {
    return this.db.select().from(intents).where(eq(intents.idempotencyKey, key)).get();
  }

  run(runId: string): RunRow | undefined {
    return this.db.select().from(runs).where(eq(runs.runId, runId)).get();
  }

  runOfIntent(intentId: string): RunRow | undefined {
    return this.db
      .select()
      .from(runs)
      .where(eq(runs.intentId, intentId))
      .orderBy(desc(runs.runId))
      .get();
  }

  save(run: RunRow): void {
    const { runId, ...rest } = run;
    this.db.update(runs).set(rest).where(eq(runs.runId, runId)).run();
  }

  setIntentStatus(intentId: string, status: IntentStatus): void {
    this.db.update(intents).set({ status }).where(eq(intents.intentId, intentId)).run();
  }

  /** Pending runs whose backoff has passed, oldest first: the dispatch queue. */
  queue(now: number): RunRow[] {
    return this.db
      .select()
      .from(runs)
      .where(and(eq(runs.status, "pending"), or(isNull(runs.retryAt), lte(runs.retryAt, now))))
      .orderBy(asc(runs.createdAt), asc(runs.runId))
      .all();
  }

  /** Runs an agent holds (dispatched to it or claimed by it). */
  heldBy(agentId: string): RunRow[] {
    return this.db
      .select()
      .from(runs)
      .where(and(eq(runs.leaseAgent, agentId), inArray(runs.status, ACTIVE_RUN_STATUSES)))
      .all();
  }

  /** The ids of the runs each agent holds. */
  heldRunIds(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    const rows = this.db
      .select({ agent: runs.leaseAgent, run: runs.runId })
      .from(runs)
      .where(and(isNotNull(runs.leaseAgent), inArray(runs.status, ACTIVE_RUN_STATUSES)))
      .all();
    for (const { agent, run } of rows) out.set(agent!, [...(out.get(agent!) ?? []), run]);
    return out;
  }

  /** How many runs each agent holds. */
  loads(): Map<string, number> {
    const rows = this.db
      .select({ agent: runs.leaseAgent, n: sql<number>`count(*)` })
      .from(runs)
      .where(and(isNotNull(runs.leaseAgent), inArray(runs.status, ACTIVE_RUN_STATUSES)))
      .groupBy(runs.leaseAgent)
      .all();
    return new Map(rows.map((r) => [r.agent!, r.n]));
  }

  /** Runs with a timer at or before `now`: ack deadline, lease, deadline. */
  expired(now: number): RunRow[] {
    return this.db
      .select()
      .from(runs)
      .where(
        or(
          and(eq(runs.status, "dispatched"), lte(runs.ackDeadline, now)),
          and(inArray(runs.status, ACTIVE_RUN_STATUSES), lte(runs.leaseExpiresAt, now)),
          and(inArray(runs.status, ["pending", ...ACTIVE_RUN_STATUSES]), lte(runs.deadline, now)),
        ),
      )
      .all();
  }

  /** The earliest run timer: ack deadline, lease expiry, deadline or end of a backoff. */
  nextDue(now: number): number | null {
    const row = this.db
      .select({
        ack: sql<
          number | null
        >`min(case when ${runs.status} = 'dispatched' and ${runs.acked} = 0 then ${runs.ackDeadline} end)`,
        lease: sql<
          number | null
        >`min(case when ${runs.status} <> 'pending' then ${runs.leaseExpiresAt} end)`,
        deadline: sql<number | null>`min(${runs.deadline})`,
        // A backoff that already ended waits for an agent event, not for the timer.
        retry: sql<
          number | null
        >`min(case when ${runs.status} = 'pending' and ${runs.retryAt} > ${now} then ${runs.retryAt} end)`,
      })
      .from(runs)
      .where(inArray(runs.status, ["pending", ...ACTIVE_RUN_STATUSES]))
      .get();
    const due = [row?.ack, row?.lease, row?.deadline, row?.retry].filter(
      (v): v is number => typeof v === "number",
    );
    return due.length ? Math.min(...due) : null;
  }

  list(query: RunsQuery): RunList {
    const where = and(
      query.status ? eq(runs.status, query.status) : undefined,
      query.app ? eq(runs.app, query.app) : undefined,
      query.agent ? eq(runs.agentId, query.agent) : undefined,
      query.intent ? eq(runs.intentId, query.intent) : undefined,
      query.before ? lt(runs.runId, query.before) : undefined,
    );
    const rows = this.db
      .select({ run: runs, intent: intents.intent })
      .from(runs)
      .innerJoin(intents, eq(runs.intentId, intents.intentId))
      .where(where)
      .orderBy(desc(runs.runId))
      .limit(query.limit + 1)
      .all();
    const page = rows.slice(0, query.limit);
    return {
      runs: page.map((r) => this.state(r.run, r.intent)),
      next: rows.length > query.limit ? page.at(-1)!.run.runId : null,
    };
  }

  /** Intents, newest first, each with its run. */
  listIntents(query: IntentsQuery): IntentList {
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
    const page = rows.slice(0, query.limit);
    return {
      intents: page.map((row) => this.intentInfo(row)),
      next: rows.length > query.limit ? page.at(-1)!.intentId : null,
    };
  }

  intentInfo(row: IntentRow): IntentInfo {
    const run = this.runOfIntent(row.intentId);
    return {
      intent: row.intent,
      status: row.status as IntentStatus,
      principal: row.principal,
      run: run ? this.state(run, row.intent) : null,
    };
  }

  /** The run as the API shows it; `intent` saves a lookup when the caller has it. */
  state(row: RunRow, intent?: Pick<Intent, "targets">): RunState {
    const targets = (intent ?? this.intent(row.intentId)?.intent)?.targets ?? [];
    const holding =
      (row.status === "dispatched" || row.status === "running") &&
      row.leaseAgent !== null &&
      row.leaseExpiresAt !== null;
    return {
      run_id: row.runId,
      intent_id: row.intentId,
      tenant: this.tenant,
      app: row.app,
      agent_id: row.agentId,
      targets,
      tree_ref: row.treeRef,
      status: row.status as RunStatus,
      attempt: row.attempt,
      lease: holding
        ? {
            agent_id: row.leaseAgent!,
            attempt: row.leaseAttempt!,
            expires_at: iso(row.leaseExpiresAt!),
          }
        : null,
      timings: {
        created_at: iso(row.createdAt),
        dispatched_at: isoOrNull(row.dispatchedAt),
        started_at: isoOrNull(row.startedAt),
        finished_at: isoOrNull(row.finishedAt),
      },
      usage: addUsage(row.usagePrior, row.usageAttempt),
      error: row.error,
      result: row.result,
    };
  }
}
