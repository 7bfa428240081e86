import { and, eq, gte, sum } from "drizzle-orm";
import {
  type BudgetLimits,
  type BudgetPeriod,
  type Budgets,
  type BudgetUsage,
  type LimitRefusal,
  own,
} from "../../../contract";
import type { Database } from "../../db/database";
import type { Logger } from "../../log";
import { isoOrNull } from "../../tenant/context";
import type { BudgetRoom } from "../routing/router";
import { gatewaySpend } from "./schema";
import { StoredMap } from "./stored-map";

const DAY_MS = 86_400_000;

/** A budget that applies to a call. */
export interface BudgetScope {
  scope: "tenant" | "app" | "run";
  subject: string;
  period: BudgetPeriod;
  tokens?: number | undefined;
  usd?: number | undefined;
}

/** Budget held for a call in flight: an upper bound, replaced by the real usage at settle. */
interface Reservation {
  app: string | null;
  runId: string | null;
  tokens: number;
  usd: number;
  expiresAt: number;
}

const RESERVATION_PREFIX = "gateway/reservation/";

/** A budget crossing 80% or 100% of a limit, for a `budget` event. */
export interface BudgetCrossing {
  scope: BudgetScope["scope"];
  dimension: "tokens" | "cost_usd";
  used: number;
  limit: number;
  state: "warning" | "exceeded";
}

const min = (a: number | undefined, b: number | undefined) =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b);

/**
 * The budgets of a call: the tenant's, its app's, and its run's (the configured per-run budget
 * lowered by the intent's own `policy_ctx.budget`).
 */
export function budgetScopes(
  budgets: Budgets,
  app: string | null,
  runId: string | null,
  intentBudget: BudgetLimits | null,
): BudgetScope[] {
  const out: BudgetScope[] = [];
  if (budgets.tenant) out.push({ scope: "tenant", subject: "-", ...budgets.tenant });
  const appBudget = app === null ? undefined : (own(budgets.apps, app) ?? budgets.per_app);
  if (appBudget && app !== null) out.push({ scope: "app", subject: app, ...appBudget });
  if (runId !== null) {
    const tokens = min(budgets.run?.tokens, intentBudget?.max_tokens);
    const usd = min(budgets.run?.usd, intentBudget?.max_cost_usd);
    if (tokens !== undefined || usd !== undefined)
      out.push({ scope: "run", subject: runId, period: "total", tokens, usd });
  }
  return out.filter((s) => s.tokens !== undefined || s.usd !== undefined);
}

/** The first day (UTC, ms) a period covers at `now`. */
export function periodStart(period: BudgetPeriod, now: number): number {
  if (period === "total") return 0;
  if (period === "day") return Math.floor(now / DAY_MS) * DAY_MS;
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/**
 * Budgets, strongly consistent: spend per scope and day, and reservations for calls in flight.
 * A call is admitted only if what is spent, plus what is reserved, plus an upper bound of the
 * call fits every budget; the bound is reserved in the same synchronous step, so concurrent
 * calls can never together overspend. Settling replaces the reservation with the real usage.
 *
 * Reservations are kept in memory and written through to storage without holding the answer
 * for the write's confirmation (`allowUnconfirmed`): the check and the reservation are already
 * decided in this single-threaded object, and a call's admission should not wait on a commit.
 * They are read back after a restart, so calls still in flight stay counted.
 */
export class BudgetLedger {
  private readonly reservations: StoredMap<Reservation>;

  constructor(
    private readonly db: Database,
    private readonly storage: DurableObjectStorage,
    private readonly now: () => number,
    log: Logger,
  ) {
    this.reservations = new StoredMap(storage, RESERVATION_PREFIX, log);
  }

  used(s: BudgetScope): { tokens: number; usd: number; unpriced: number } {
    const row = this.db
      .select({
        tokens: sum(gatewaySpend.tokens),
        usd: sum(gatewaySpend.usd),
        unpriced: sum(gatewaySpend.unpricedCalls),
      })
      .from(gatewaySpend)
      .where(
        and(
          eq(gatewaySpend.scope, s.scope),
          eq(gatewaySpend.subject, s.subject),
          gte(gatewaySpend.day, periodStart(s.period, this.now())),
        ),
      )
      .get();
    return {
      tokens: Number(row?.tokens ?? 0),
      usd: Number(row?.usd ?? 0),
      unpriced: Number(row?.unpriced ?? 0),
    };
  }

  reserved(s: BudgetScope): { tokens: number; usd: number } {
    const now = this.now();
    let tokens = 0;
    let usd = 0;
    for (const r of this.reservations.all().values()) {
      if (r.expiresAt <= now) continue;
      if (s.scope === "app" && r.app !== s.subject) continue;
      if (s.scope === "run" && r.runId !== s.subject) continue;
      tokens += r.tokens;
      usd += r.usd;
    }
    return { tokens, usd };
  }

  /** The least USD left under any budget of the call (for routing to drop dear candidates). */
  room(scopes: BudgetScope[]): BudgetRoom {
    let tightest: BudgetRoom["usd"] = null;
    for (const s of scopes) {
      if (s.usd === undefined) continue;
      const remaining = s.usd - this.used(s).usd - this.reserved(s).usd;
      if (!tightest || remaining < tightest.remaining) tightest = { remaining, scope: describe(s) };
    }
    return { usd: tightest };
  }

  /** The least left (limit less spent and reserved) under any of these budgets (null: none). */
  headroom(scopes: BudgetScope[]): { tokens: number | null; usd: number | null } {
    let tokens: number | null = null;
    let usd: number | null = null;
    for (const s of scopes) {
      const used = this.used(s);
      const reserved = this.reserved(s);
      if (s.tokens !== undefined) {
        const left = s.tokens - used.tokens - reserved.tokens;
        tokens = tokens === null ? left : Math.min(tokens, left);
      }
      if (s.usd !== undefined) {
        const left = s.usd - used.usd - reserved.usd;
        usd = usd === null ? left : Math.min(usd, left);
      }
    }
    return { tokens, usd };
  }

  /** The first budget the call could break, given an upper bound of its tokens and cost. */
  check(scopes: BudgetScope[], need: { tokens: number; usd: number | null }): LimitRefusal | null {
    for (const s of scopes) {
      const used = this.used(s);
      const reserved = this.reserved(s);
      if (s.tokens !== undefined && used.tokens + reserved.tokens + need.tokens > s.tokens)
        return refusal(s, "tokens", s.tokens, used.tokens + reserved.tokens, need.tokens);
      if (s.usd !== undefined && (need.usd === null || used.usd + reserved.usd + need.usd > s.usd))
        return refusal(
          s,
          "usd",
          s.usd,
          round(used.usd + reserved.usd),
          need.usd === null ? 0 : round(need.usd),
        );
    }
    return null;
  }

  reserve(
    id: string,
    app: string | null,
    runId: string | null,
    need: { tokens: number; usd: number },
    expiresAt: number,
  ): void {
    this.reservations.set(id, { app, runId, tokens: need.tokens, usd: need.usd, expiresAt });
  }

  release(id: string): void {
    this.reservations.delete(id);
  }

  /**
   * Adds a call's real usage to its tenant's, app's and run's spend, and says which budgets it
   * took past 80% or 100%.
   */
  record(
    app: string | null,
    runId: string | null,
    /** `usd` of the priced parts; `unpriced`: some part has no price (counted apart). */
    actual: { tokens: number; usd: number; unpriced: boolean },
    scopes: BudgetScope[],
  ): BudgetCrossing[] {
    const before = scopes.map((s) => this.used(s));
    const day = periodStart("day", this.now());
    const subjects: [BudgetScope["scope"], string][] = [["tenant", "-"]];
    if (app !== null) subjects.push(["app", app]);
    if (runId !== null) subjects.push(["run", runId]);
    // Every call's settlement writes these: the Durable Object's SQL API directly (workerd
    // caches the statement by its text), not drizzle, whose query building cost more than the write.
    for (const [scope, subject] of subjects)
      this.storage.sql.exec(
        "INSERT INTO gateway_spend (scope, subject, day, tokens, usd, unpriced_calls) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(scope, subject, day) DO UPDATE SET tokens = tokens + excluded.tokens, usd = usd + excluded.usd, unpriced_calls = unpriced_calls + excluded.unpriced_calls",
        scope,
        subject,
        day,
        actual.tokens,
        actual.usd,
        actual.unpriced ? 1 : 0,
      );
    const crossings: BudgetCrossing[] = [];
    scopes.forEach((s, i) => {
      const after = this.used(s);
      const dims = [
        ["tokens", s.tokens, before[i]!.tokens, after.tokens],
        ["cost_usd", s.usd, before[i]!.usd, after.usd],
      ] as const;
      for (const [dimension, limit, was, now] of dims) {
        if (limit === undefined) continue;
        const state =
          now >= limit && was < limit
            ? "exceeded"
            : now >= 0.8 * limit && was < 0.8 * limit
              ? "warning"
              : null;
        if (state) crossings.push({ scope: s.scope, dimension, used: round(now), limit, state });
      }
    });
    return crossings;
  }

  /** Reservations of calls that never settled (a Worker that died mid-call) lapse. */
  prune(): void {
    const now = this.now();
    for (const [id, r] of this.reservations.all()) if (r.expiresAt <= now) this.release(id);
  }

  usage(s: BudgetScope): BudgetUsage {
    const used = this.used(s);
    const reserved = this.reserved(s);
    return {
      scope: s.scope,
      subject: s.subject,
      period: s.period,
      period_start: isoOrNull(s.period === "total" ? null : periodStart(s.period, this.now())),
      tokens_used: used.tokens,
      tokens_reserved: reserved.tokens,
      tokens_limit: s.tokens ?? null,
      usd_used: round(used.usd),
      usd_reserved: round(reserved.usd),
      usd_limit: s.usd ?? null,
      unpriced_calls: used.unpriced,
    };
  }
}

const round = (n: number) => Math.round(n * 1e8) / 1e8;

function describe(s: BudgetScope): string {
  return s.scope === "tenant"
    ? `tenant ${s.period}`
    : `${s.scope} ${s.subject}${s.period === "total" ? "" : ` ${s.period}`}`;
}

function refusal(
  s: BudgetScope,
  dimension: "tokens" | "usd",
  limit: number,
  used: number,
  requested: number,
): LimitRefusal {
  return {
    kind: "budget",
    scope: s.scope,
    subject: s.subject,
    dimension,
    limit,
    used,
    requested,
    period: s.period,
    retry_after_ms: null,
  };
}
