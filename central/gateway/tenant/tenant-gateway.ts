import {
  Failure,
  type GatewayConfig,
  type GatewayConfigView,
  type GatewayStatus,
  type LimitRefusal,
  type ModelCall,
  type ModelRoute,
  type ResilienceSettings,
} from "../../../contract";
import { configuredKeySecret, mintKey } from "../../auth/keys";
import { CENTRAL_PRINCIPAL, type Principal } from "../../auth/principal";
import type { Ingest } from "../../events/ingest";
import type { AgentStore } from "../../fleet/agent-store";
import type { KeyStore } from "../../governance/key-store";
import type { MetricRecorder } from "../../metrics/recorder";
import type { RunTable } from "../../runs/run-table";
import type { TenantContext } from "../../tenant/context";
import {
  type AdmitRequest,
  type AdmitResult,
  type Attribution,
  type LeaseGrant,
  outputBound,
  outputCapOf,
  type ProviderTarget,
  type SettleBatch,
  type SettleRequest,
  type Ticket,
  type UpstreamCandidate,
} from "../admission";
import { withDocumentBound } from "../call/estimate";
import { priceOf } from "../pricing/prices";
import { type ProviderView, route } from "../routing/router";
import { attribute } from "./attribution";
import { BudgetLedger, type BudgetScope, budgetScopes } from "./budgets";
import { listedAttempts } from "./call-attempts";
import { chargeOf } from "./call-charge";
import { CallEvents } from "./call-events";
import { CallMetrics } from "./call-metrics";
import { GatewayConfigStore } from "./config-store";
import { LEASE_TTL_MS, LeaseLedger, leaseSlots } from "./leases";
import { ProviderHealthStore } from "./provider-health";
import { RateLimiter, type RateSubject, rateSubjects } from "./rate-limits";
import { cacheServes, ResponseCache } from "./response-cache";
import type { StoredProvider } from "./schema";
import { SettledCalls } from "./settled-calls";

/** A call that never settles (its Worker died) gives its reservation back after this. */
const RESERVATION_TTL_MS = 3_600_000;
/** Housekeeping (expired windows, reservations, cache entries) at most this often. */
const PRUNE_EVERY_MS = 60_000;

/** What the price table knows of a model's limits (an alias: the least of its candidates'). */
export interface ModelLimits {
  contextWindow: number | null;
  maxOutputTokens: number | null;
}

/** `scripted`: answered from a script, not a model (every candidate, for an alias). */
export interface GatewayModels {
  aliases: ({ name: string; description: string | null; scripted: boolean } & ModelLimits)[];
  models: ({ provider: string; model: string; scripted: boolean } & ModelLimits)[];
}

/**
 * The model gateway's side of the tenant Durable Object: admits calls (key, attribution,
 * routing, rate limits, the budget reservation, the cache), settles them (spend, provider
 * health and circuits, the cache, the `model_call` event) and holds the configuration. Every
 * decision that must be consistent for the tenant is made here, synchronously, so concurrent
 * calls see each other's reservations; the calls themselves run in the Worker.
 */
export class TenantGateway {
  readonly config: GatewayConfigStore;
  private readonly health: ProviderHealthStore;
  private readonly rates: RateLimiter;
  private readonly budgets: BudgetLedger;
  private readonly cache: ResponseCache;
  private readonly events: CallEvents;
  private readonly callMetrics: CallMetrics;
  private readonly settled: SettledCalls;
  private readonly leases: LeaseLedger;
  /** This object's life: leases granted by an earlier one are out of date. */
  private readonly life = crypto.randomUUID().slice(0, 8);
  /** Moves on when a provider fails, so leases stop routing past a circuit that may open. */
  private healthRevision = 0;
  private prunedAt = 0;
  private central: string | null = null;

  constructor(
    private readonly ctx: TenantContext,
    private readonly keys: KeyStore,
    private readonly agents: AgentStore,
    private readonly runs: RunTable,
    ingest: Ingest,
    metrics: MetricRecorder,
    private readonly env: Env,
  ) {
    const { db, now } = ctx;
    this.config = new GatewayConfigStore(db, ctx.tenant, now, env);
    this.health = new ProviderHealthStore(db, ctx.storage.sql, now);
    this.rates = new RateLimiter(now);
    this.budgets = new BudgetLedger(db, ctx.storage, now, ctx.log.with({ component: "gateway" }));
    this.cache = new ResponseCache(db, now);
    this.leases = new LeaseLedger(
      this.budgets,
      this.rates,
      ctx.storage,
      ctx.log.with({ component: "gateway" }),
    );
    this.settled = new SettledCalls(ctx.storage.sql, now);
    this.callMetrics = new CallMetrics(metrics);
    this.events = new CallEvents(
      ctx.tenant,
      ctx.storage.sql,
      ingest,
      now,
      ctx.log.with({ component: "gateway" }),
    );
  }

  /**
   * A key for central's own model calls (its planner), so they pass the same admission, routing,
   * budgets, cache and `model_call` events as anyone's. Minted under the platform's key secret
   * for this object's life, held in memory only, and known only here (no key record to steal).
   */
  async centralKey(): Promise<string> {
    if (this.central) return this.central;
    const keySecret = configuredKeySecret(this.env);
    if (!keySecret)
      throw new Failure(
        503,
        "not_configured",
        "AURAISON_KEY_SECRET is not set: central cannot call its gateway",
      );
    this.central = await mintKey("operator", this.ctx.tenant, keySecret);
    return this.central;
  }

  private async caller(secret: string): Promise<Principal | null> {
    if (this.central !== null && secret === this.central)
      return { id: CENTRAL_PRINCIPAL, role: "operator", app: null, secret };
    return this.keys.authenticate(secret);
  }

  async admit(req: AdmitRequest): Promise<AdmitResult> {
    return this.admission(req, false);
  }

  /**
   * A fresh lease for calls like `req`, asked for before the Worker's current one runs out, or
   * null. Checked as an admission is, but admits no call: nothing is reserved or counted beyond
   * the lease's own slots, and a refusal is no call, so it is not logged.
   */
  async renewLease(req: AdmitRequest): Promise<LeaseGrant | null> {
    const admitted = await this.admission({ ...req, lease: true }, true);
    return admitted.kind === "proceed" ? (admitted.lease ?? null) : null;
  }

  private async admission(asked: AdmitRequest, leaseOnly: boolean): Promise<AdmitResult> {
    // A Worker still on the previous deploy sends no documents.
    let req: AdmitRequest = {
      ...asked,
      estimate: { ...asked.estimate, documents: asked.estimate.documents ?? [] },
    };
    const key = await this.caller(req.secret);
    // From here on nothing awaits: the checks and the reservation are one atomic step.
    const role = key?.role;
    if (!key || role === undefined || role === "bootstrap")
      return {
        kind: "refused",
        status: 401,
        code: "invalid_api_key",
        message: "unknown or revoked API key",
      };
    if (role === "viewer")
      return {
        kind: "refused",
        status: 403,
        code: "forbidden",
        message: "a viewer key may not call models",
      };
    const who = attribute(
      { id: key.id, role, app: key.app },
      req.attribution,
      this.agents,
      this.runs,
    );
    if (!who.ok)
      return { kind: "refused", status: who.status, code: who.code, message: who.message };
    const { attribution, intentBudget } = who;
    const now = this.ctx.now();
    this.housekeeping(now);
    const { config } = this.config.current();
    const prices = this.config.prices();
    const outputTokens = outputBound(req.estimate, config.max_output_tokens);
    const scopes = budgetScopes(config.budgets, attribution.app, attribution.runId, intentBudget);
    const byId = new Map(config.providers.map((p) => [p.id, p]));
    const routeFor = (inputTokens: number) =>
      route(
        config,
        prices,
        {
          requested: req.requested,
          app: attribution.app,
          intentType: attribution.intentType,
          tags: attribution.tags,
          inputTokens,
          outputTokens,
        },
        (id) => this.providerView(byId.get(id)),
        this.budgets.room(scopes),
        now,
      );
    let routed = routeFor(req.estimate.inputTokens);
    // Documents may cost the context window of the models the call may go to, known once the
    // route names them: every candidate the route considered, kept or not, so routing again with
    // that bound (which may keep other candidates) stays within it.
    const { documents } = req.estimate;
    if (routed.ok && documents.length) {
      const estimate = withDocumentBound(
        req.estimate,
        routed.route.candidates.map(
          (c) => priceOf(prices, c.provider, c.model)?.context_window ?? null,
        ),
      );
      if (estimate.inputTokens !== req.estimate.inputTokens) {
        req = { ...req, estimate };
        routed = routeFor(estimate.inputTokens);
      }
    }
    const ticket = (routeDecision: ModelRoute, alias: string | null): Ticket => ({
      callId: crypto.randomUUID(),
      operation: req.operation,
      admittedAt: now,
      reservationId: null,
      lease: null,
      attribution,
      route: routeDecision,
      alias,
      rateWindow: Math.floor(now / 60_000),
      estimatedTokens: 0,
      probes: [],
    });
    if (!routed.ok) {
      if (leaseOnly) return refusedLease;
      if (routed.code === "budget_exceeded" && routed.route) {
        // Name the budget: the one even the cheapest candidate would break.
        const costs = routed.route.candidates.map((c) => c.est_cost_usd);
        const cheapest = costs.every((c) => c === null)
          ? null
          : Math.min(...costs.filter((c) => c !== null));
        const limit = this.budgets.check(scopes, {
          tokens: req.estimate.inputTokens + outputTokens,
          usd: cheapest,
        });
        if (limit)
          return this.limited(
            ticket(routed.route, routed.route.alias),
            req,
            limit,
            scopes,
            cheapest === null,
          );
      }
      if (routed.route)
        this.refusalEvent(ticket(routed.route, routed.route.alias), req, routed.code, scopes, null);
      return {
        kind: "refused",
        status: routed.status,
        code: routed.code,
        message: routed.message,
        ...(routed.retryAfterMs !== null ? { retryAfterMs: routed.retryAfterMs } : {}),
      };
    }
    const admitted = ticket(routed.route, routed.alias);
    const subjects = rateSubjects(config.limits, attribution.app, attribution.keyId);
    // The route's first candidate is in the key: a remapped alias never replays the old model's
    // answers, and only that candidate's answers are stored (handle-call.ts).
    const first = routed.chain[0]!;
    const cacheKey =
      req.cache.hash && cacheServes(config.cache, req.operation)
        ? `${req.cache.hash}|${routed.route.rule ?? "-"}|${routed.alias ?? req.requested}|${first.provider}/${first.model}`
        : null;
    if (leaseOnly) {
      // A call with a document is never under a lease (lease.ts, `fits`).
      if (routed.chain.some((c) => c.probe) || documents.length) return refusedLease;
      const lease = this.lease(req, {
        attribution,
        chain: routed.chain.map((c) => ({
          provider: targetOf(byId.get(c.provider)!, config.resilience),
          model: c.model,
          probe: false,
        })),
        subjects,
        scopes,
        outputTokens,
      });
      return lease
        ? {
            kind: "proceed",
            ticket: admitted,
            chain: lease.chain,
            cacheKey: null,
            outputCap: null,
            defaultMaxTokens: config.max_output_tokens,
            lease,
          }
        : refusedLease;
    }
    if (cacheKey && req.cache.mode === "default") {
      const answer = this.cache.get(cacheKey);
      if (answer) {
        const limited = this.rates.check(subjects, 0);
        if (limited) return this.limited(admitted, req, limited, scopes, false);
        admitted.rateWindow = this.rates.count(subjects, 0);
        return { kind: "cached", ticket: admitted, answer };
      }
    }
    const tokens = req.estimate.inputTokens + outputTokens;
    const rateRefusal = this.rates.check(subjects, tokens);
    if (rateRefusal) return this.limited(admitted, req, rateRefusal, scopes, false);
    const costs = routed.chain.map((c) => c.estCostUsd);
    const usd = costs.some((c) => c === null) ? null : Math.max(...(costs as number[]));
    const budgetRefusal = this.budgets.check(scopes, { tokens, usd });
    if (budgetRefusal) return this.limited(admitted, req, budgetRefusal, scopes, usd === null);
    if (scopes.length) {
      admitted.reservationId = crypto.randomUUID();
      this.budgets.reserve(
        admitted.reservationId,
        attribution.app,
        attribution.runId,
        { tokens, usd: usd ?? 0 },
        now + RESERVATION_TTL_MS,
      );
    }
    admitted.rateWindow = this.rates.count(subjects, tokens);
    admitted.estimatedTokens = tokens;
    const chain: UpstreamCandidate[] = routed.chain.map((c) => {
      const provider = byId.get(c.provider)!;
      const target = targetOf(provider, config.resilience);
      if (c.probe) {
        const r = target.resilience;
        this.health.takeProbe(
          c.provider,
          now + Math.max(r.timeout_ms, r.first_byte_timeout_ms) + 60_000,
        );
        admitted.probes.push(c.provider);
      }
      return { provider: target, model: c.model, probe: c.probe };
    });
    const lease =
      req.lease && !cacheKey && !admitted.probes.length && !documents.length
        ? this.lease(req, {
            attribution,
            chain,
            subjects,
            scopes,
            outputTokens,
          })
        : null;
    return {
      kind: "proceed",
      ticket: admitted,
      chain,
      cacheKey: cacheKey && req.cache.mode !== "no-store" ? cacheKey : null,
      outputCap: outputCapOf(
        reservesTokens(scopes, subjects),
        req.estimate.outputTokens,
        config.max_output_tokens,
      ),
      defaultMaxTokens: config.max_output_tokens,
      ...(lease ? { lease } : {}),
    };
  }

  /**
   * What Worker leases are decided by: the keys, the configuration, provider failures and this
   * object's life. A Worker holding a lease of another epoch stops using it.
   */
  epoch(): string {
    return `${this.life}.${this.config.current().version}.${this.keys.revision}.${this.healthRevision}`;
  }

  /**
   * Slots for further calls like the one just admitted (same key, attribution and model), each
   * sized for twice its input (at least 1,024 tokens) and its output, routed as such a call
   * would be. None when a slot would route differently, or when the budgets or rate limits
   * have too little left (`leaseSlots`): those calls come here one by one.
   */
  private lease(
    req: AdmitRequest,
    call: {
      attribution: Attribution;
      chain: UpstreamCandidate[];
      subjects: RateSubject[];
      scopes: BudgetScope[];
      outputTokens: number;
    },
  ): LeaseGrant | null {
    const { attribution } = call;
    const slotInputTokens = Math.max(1_024, 2 ** Math.ceil(Math.log2(req.estimate.inputTokens)));
    const slotOutputTokens = call.outputTokens;
    const { config } = this.config.current();
    const now = this.ctx.now();
    const slotRoute = route(
      config,
      this.config.prices(),
      {
        requested: req.requested,
        app: attribution.app,
        intentType: attribution.intentType,
        tags: attribution.tags,
        inputTokens: slotInputTokens,
        outputTokens: slotOutputTokens,
      },
      (id) => this.providerView(config.providers.find((p) => p.id === id)),
      this.budgets.room(call.scopes),
      now,
    );
    if (!slotRoute.ok) return null;
    const same =
      slotRoute.chain.length === call.chain.length &&
      slotRoute.chain.every(
        (c, i) =>
          !c.probe && c.provider === call.chain[i]!.provider.id && c.model === call.chain[i]!.model,
      );
    if (!same) return null;
    const costs = slotRoute.chain.map((c) => c.estCostUsd);
    const slotUsd = costs.some((c) => c === null) ? null : Math.max(...(costs as number[]));
    const budget = this.budgets.headroom(call.scopes);
    // An unpriced model under a USD budget is refused call by call, with its reason.
    if (slotUsd === null && budget.usd !== null) return null;
    const slotTokens = slotInputTokens + slotOutputTokens;
    const rate = this.rates.headroom(call.subjects);
    const tokens =
      budget.tokens === null || rate.tokens === null
        ? (budget.tokens ?? rate.tokens)
        : Math.min(budget.tokens, rate.tokens);
    const slots = leaseSlots(
      { tokens, usd: budget.usd, requests: rate.requests },
      { tokens: slotTokens, usd: slotUsd ?? 0 },
    );
    if (!slots) return null;
    const id = crypto.randomUUID();
    const rateWindow = Math.floor(now / 60_000);
    this.leases.grant(id, {
      slots,
      budgeted: call.scopes.length > 0,
      slotTokens,
      slotUsd: slotUsd ?? 0,
      app: attribution.app,
      runId: attribution.runId,
      subjects: call.subjects,
      rateWindow,
      expiresAt: now + RESERVATION_TTL_MS,
    });
    return {
      id,
      epoch: this.epoch(),
      ttlMs: LEASE_TTL_MS,
      slots,
      slotInputTokens,
      slotOutputTokens,
      slotTokens,
      slotUsd: slotUsd ?? 0,
      attribution,
      route: slotRoute.route,
      alias: slotRoute.alias,
      rateWindow,
      chain: call.chain,
      budgeted: reservesTokens(call.scopes, call.subjects),
      maxOutputTokens: config.max_output_tokens,
      cacheEnabled: cacheServes(config.cache, req.operation),
    };
  }

  /** Settlements and lease closes from a Worker, in one RPC; answers the epoch it should hold. */
  settleBatch(batch: SettleBatch): { epoch: string } {
    // The batch's events go to the log together: one append, not one per call.
    this.events.together(() => {
      for (const request of batch.settles) this.settle(request);
    });
    for (const close of batch.closes) this.leases.close(close.id, close.started);
    return { epoch: this.epoch() };
  }

  settle(req: SettleRequest): void {
    const { ticket } = req;
    if (!this.settled.first(ticket.callId)) return;
    const { config } = this.config.current();
    const byId = new Map(config.providers.map((p) => [p.id, p]));
    for (const outcome of req.health) {
      if (outcome.breakerFailure) this.healthRevision += 1;
      const provider = byId.get(outcome.provider);
      if (provider) this.health.record(outcome, targetOf(provider, config.resilience).resilience);
    }
    for (const probe of ticket.probes)
      if (!req.health.some((h) => h.provider === probe && h.probe)) this.health.skipProbe(probe);
    if (ticket.reservationId) this.budgets.release(ticket.reservationId);
    if (ticket.lease) this.leases.settled(ticket.lease);
    const charge = chargeOf(this.config.prices(), req);
    const { usage, tokens, usd, unpriced } = charge;
    const { attribution } = ticket;
    const scopes = budgetScopes(
      config.budgets,
      attribution.app,
      attribution.runId,
      this.intentBudget(attribution),
    );
    if (!req.cacheHit && (tokens > 0 || usd > 0 || unpriced))
      for (const crossing of this.budgets.record(
        attribution.app,
        attribution.runId,
        { tokens, usd, unpriced },
        scopes,
      ))
        this.events.emit(attribution, "budget", crossing);
    this.rates.correct(
      rateSubjects(config.limits, attribution.app, attribution.keyId),
      ticket.rateWindow,
      tokens - ticket.estimatedTokens,
    );
    if (
      req.store &&
      req.outcome === "ok" &&
      req.store.answer.body.length <= config.cache.max_entry_bytes
    )
      this.cache.put(req.store.key, req.store.answer, config.cache.ttl_s * 1000);
    this.callMetrics.settled(
      req,
      req.provider === null ? null : (byId.get(req.provider)?.kind ?? null),
      charge,
    );
    this.events.emit(attribution, "model_call", {
      ...this.callPayload(ticket, req.stream, req.errorType),
      provider: req.provider ?? ticket.route.chosen?.provider ?? "none",
      request_model: req.model ?? ticket.route.chosen?.model ?? ticket.route.requested,
      response_model: req.responseModel,
      response_id: req.responseId,
      finish_reasons: req.finishReasons.slice(0, 16),
      input_tokens: usage.input,
      output_tokens: usage.output,
      cache_read_tokens: usage.cacheRead,
      cache_write_tokens: usage.cacheWrite,
      // The sum of the parts as listed (each rounded), so the parts add up to it exactly.
      cost_usd: unpriced
        ? null
        : round(charge.tries.reduce((sum, t) => sum + round(t.cost!), round(charge.answerCost!))),
      latency_ms: Math.round(req.latencyMs),
      ttft_ms: req.ttftMs === null ? null : Math.round(req.ttftMs),
      cache_hit: req.cacheHit,
      attempts: listedAttempts(req.attempts, charge.tries, round),
      usage_estimated: req.usageEstimated,
      gateway_ms: round(req.gatewayMs, 1e2),
    });
  }

  /** Aliases and models a key may ask for (any role of this tenant may list them). */
  async models(secretKey: string): Promise<GatewayModels | null> {
    const key = await this.caller(secretKey);
    if (!key || key.role === "bootstrap") return null;
    const { config } = this.config.current();
    const prices = this.config.prices();
    const limits = (provider: string, model: string): ModelLimits => {
      const price = priceOf(prices, provider, model);
      return {
        contextWindow: price?.context_window ?? null,
        maxOutputTokens: price?.max_output_tokens ?? null,
      };
    };
    // An alias may be answered by any candidate: it promises only what every one of them takes.
    const least = (values: (number | null)[]) =>
      values.length && values.every((v) => v !== null) ? Math.min(...(values as number[])) : null;
    const scripted = new Set(
      config.providers.filter((p) => p.kind === "scripted").map((p) => p.id),
    );
    return {
      aliases: Object.entries(config.aliases).map(([name, a]) => {
        const each = a.candidates.map((c) => {
          const slash = c.indexOf("/");
          return { provider: c.slice(0, slash), ...limits(c.slice(0, slash), c.slice(slash + 1)) };
        });
        return {
          name,
          description: a.description ?? null,
          scripted: each.length > 0 && each.every((l) => scripted.has(l.provider)),
          contextWindow: least(each.map((l) => l.contextWindow)),
          maxOutputTokens: least(each.map((l) => l.maxOutputTokens)),
        };
      }),
      models: config.providers.flatMap((p) =>
        p.models.map((model) => ({
          provider: p.id,
          model,
          scripted: scripted.has(p.id),
          ...limits(p.id, model),
        })),
      ),
    };
  }

  async putConfig(next: GatewayConfig): Promise<GatewayConfigView> {
    const before = new Set(this.config.current().config.providers.map((p) => p.id));
    const { view, changed } = await this.config.replace(next);
    this.health.reset(changed);
    const now = new Set(next.providers.map((p) => p.id));
    for (const id of before) if (!now.has(id)) this.health.forget(id);
    return view;
  }

  status(): GatewayStatus {
    const { config, version } = this.config.current();
    const subjects = new Map<string, BudgetScope>();
    const add = (s: BudgetScope[]) => {
      for (const scope of s) subjects.set(`${scope.scope}/${scope.subject}`, scope);
    };
    add(budgetScopes(config.budgets, null, null, null));
    for (const app of Object.keys(config.budgets.apps))
      add(budgetScopes(config.budgets, app, null, null));
    const rateScopes = [
      ...rateSubjects(config.limits, null, "-").filter((s) => s.scope === "tenant"),
      ...Object.keys(config.limits.apps).map((app) => ({
        scope: "app" as const,
        subject: app,
        limit: config.limits.apps[app],
      })),
      ...Object.keys(config.limits.keys).map((k) => ({
        scope: "key" as const,
        subject: k,
        limit: config.limits.keys[k],
      })),
    ];
    return {
      config_version: version,
      providers: this.health.status(config.providers.map((p) => ({ id: p.id, kind: p.kind }))),
      budgets: [...subjects.values()].map((s) => this.budgets.usage(s)),
      rates: this.rates.status(rateScopes),
      cache: this.cache.stats(),
      prices: {
        version: this.config.prices()?.version ?? null,
        versions: this.config.priceVersions(),
      },
    };
  }

  private providerView(provider: StoredProvider | undefined): ProviderView {
    if (!provider)
      return {
        kind: "unknown",
        circuit: "closed",
        probeDue: false,
        nextProbeAt: null,
        latencyMs: null,
        errorRate: null,
        unusable: "not configured",
      };
    const unusable =
      provider.kind === "workers-ai" && !this.env.AI ? "this deployment has no AI binding" : null;
    return this.health.view(provider.id, provider.kind, unusable);
  }

  private intentBudget(attribution: Attribution) {
    if (attribution.runId === null) return null;
    const run = this.runs.get(attribution.runId);
    if (!run?.intent_id) return null;
    return this.runs.intent(run.intent_id)?.intent.policy_ctx.budget ?? null;
  }

  private callPayload(
    ticket: Ticket,
    stream: boolean,
    errorType: string | null,
  ): Partial<ModelCall> {
    const { attribution, route: decision } = ticket;
    return {
      call_id: ticket.callId,
      operation: ticket.operation,
      alias: ticket.alias,
      stream,
      observer: "gateway",
      error_type: errorType,
      route: decision,
      price_version: this.config.prices()?.version ?? null,
      app: attribution.app,
      intent_type: attribution.intentType,
      tags: attribution.tags.slice(0, 32),
      key_id: attribution.keyId,
    };
  }

  /** A refused call is still a call: it gets a `model_call` event (no attempts, nothing spent). */
  private refusalEvent(
    ticket: Ticket,
    req: AdmitRequest,
    errorType: string,
    scopes: BudgetScope[],
    limit: LimitRefusal | null,
  ): void {
    if (limit?.kind === "budget") {
      const scope = scopes.find((s) => s.scope === limit.scope);
      if (scope)
        this.events.emit(ticket.attribution, "budget", {
          scope: limit.scope === "key" ? "tenant" : limit.scope,
          dimension: limit.dimension === "usd" ? "cost_usd" : "tokens",
          used: limit.used,
          limit: limit.limit,
          state: "exceeded",
        });
    }
    this.callMetrics.refused(
      ticket.route.chosen?.provider ?? null,
      ticket.route.chosen?.model ?? null,
      errorType,
    );
    this.events.emit(ticket.attribution, "model_call", {
      ...this.callPayload(ticket, req.stream, errorType),
      provider: ticket.route.chosen?.provider ?? "none",
      request_model: ticket.route.chosen?.model ?? req.requested,
      response_model: null,
      response_id: null,
      finish_reasons: [],
      input_tokens: 0,
      output_tokens: 0,
      cost_usd: 0,
      latency_ms: 0,
      ttft_ms: null,
      cache_hit: false,
      attempts: [],
    });
  }

  private limited(
    ticket: Ticket,
    req: AdmitRequest,
    limit: LimitRefusal,
    scopes: BudgetScope[],
    unpriced: boolean,
  ): AdmitResult {
    const code = limit.kind === "rate" ? "rate_limited" : "budget_exceeded";
    this.refusalEvent(ticket, req, code, scopes, limit);
    return {
      kind: "refused",
      status: 429,
      code,
      message: describeLimit(limit, unpriced, req.estimate.documents.length),
      limit,
      ...(limit.retry_after_ms !== null ? { retryAfterMs: limit.retry_after_ms } : {}),
    };
  }

  private housekeeping(now: number): void {
    if (now - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = now;
    this.rates.prune();
    this.budgets.prune();
    this.cache.prune();
    this.leases.prune(now);
    this.settled.prune();
  }
}

/** No lease now (the Worker's calls go to the object one by one); never sent to a caller. */
const refusedLease: AdmitResult = {
  kind: "refused",
  status: 409,
  code: "no_lease",
  message: "no lease for these calls now",
};

const round = (n: number, scale = 1e8) => Math.round(n * scale) / scale;

/** A provider as the Worker needs it, with the tenant's resilience settings under its overrides. */
function targetOf(provider: StoredProvider, defaults: ResilienceSettings): ProviderTarget {
  const overrides = Object.fromEntries(
    Object.entries(provider.resilience ?? {}).filter(([, v]) => v !== undefined),
  );
  return { ...provider, resilience: { ...defaults, ...overrides } } as ProviderTarget;
}

/** `documents`: how many the call holds, each counted at up to its models' context (estimate.ts). */
function describeLimit(limit: LimitRefusal, unpriced: boolean, documents: number): string {
  const who = limit.scope === "tenant" ? "the tenant" : `${limit.scope} ${limit.subject}`;
  const counted = documents
    ? ` (its ${documents === 1 ? "document counts" : `${documents} documents count`} at up to the model's context window)`
    : "";
  if (limit.kind === "rate") {
    const what = limit.dimension === "requests_per_minute" ? "requests" : "tokens";
    if (limit.retry_after_ms === null)
      return `rate limit: ${who} may use ${limit.limit} ${what} per minute, and this call alone may use ${limit.requested}${counted}; send a smaller request (${documents ? "fewer documents, " : ""}a lower max_tokens) or raise the limit`;
    return `rate limit: ${who} may make ${limit.limit} ${what} per minute and has used ${limit.used} in the last minute (this call: ${limit.requested}); retry in ${Math.ceil(limit.retry_after_ms / 1000)} s`;
  }
  const period = limit.period === "total" ? "" : ` per ${limit.period}`;
  if (limit.dimension === "usd")
    return unpriced
      ? `budget: ${who} has a USD budget of $${limit.limit}${period}, and the model for this call has no known price, so it cannot be held to it`
      : `budget: ${who} has $${limit.limit}${period}; $${limit.used} is spent or reserved and this call may cost up to $${limit.requested}`;
  return `budget: ${who} has ${limit.limit} tokens${period}; ${limit.used} are spent or reserved and this call may use up to ${limit.requested}${counted}`;
}

/**
 * Whether a call's output is reserved against something (a budget, or a per-minute token limit):
 * then a call that names no output limit is held to the tenant's `max_output_tokens`, sent
 * upstream as its cap, or it could produce past what was reserved.
 */
function reservesTokens(scopes: readonly unknown[], subjects: readonly RateSubject[]): boolean {
  return scopes.length > 0 || subjects.some((s) => s.limit?.tokens_per_minute !== undefined);
}
