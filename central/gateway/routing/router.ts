import {
  type AliasConfig,
  type BreakerState,
  type ModelRoute,
  own,
  type RouteCandidate,
  type RouteRule,
  type RouteStrategy,
} from "../../../contract";
import { estimateCost, type Prices } from "../pricing/prices";

/** What routing needs to know about the call. */
export interface RouteRequest {
  requested: string;
  app: string | null;
  intentType: string | null;
  tags: string[];
  inputTokens: number;
  outputTokens: number;
}

/** A provider's state as routing sees it. */
export interface ProviderView {
  kind: string;
  circuit: BreakerState;
  /** An open circuit whose cooldown passed and whose probe slot is free: this call may probe. */
  probeDue: boolean;
  nextProbeAt: number | null;
  latencyMs: number | null;
  errorRate: number | null;
  /** Why the provider cannot be used at all here (e.g. no AI binding), if so. */
  unusable: string | null;
}

export interface RoutingConfig {
  providers: { id: string; models: string[] }[];
  aliases: Record<string, AliasConfig>;
  rules: RouteRule[];
}

/** Room left under the tightest USD budget that applies (null: none applies). */
export interface BudgetRoom {
  usd: { remaining: number; scope: string } | null;
}

export interface RoutedCandidate {
  provider: string;
  model: string;
  probe: boolean;
  estCostUsd: number | null;
}

export type RouteOutcome =
  | { ok: true; route: ModelRoute; chain: RoutedCandidate[]; alias: string | null }
  | {
      ok: false;
      status: 404 | 429 | 503;
      code: string;
      message: string;
      route: ModelRoute | null;
      retryAfterMs: number | null;
    };

/** An error rate at or above this puts a provider behind the healthy ones. */
export const UNHEALTHY_ERROR_RATE = 0.5;

const usd = (n: number) => `$${n < 0.01 ? n.toPrecision(2) : n.toFixed(4)}`;

/**
 * Picks the candidates for a call and orders them into a fallback chain, explaining each step:
 * which rule matched, every candidate with why it was kept or dropped, and why the first was
 * chosen. A concrete model (`provider/model`, or a model a provider lists) is honoured as
 * asked unless a rule names it; anything else is an alias resolved by the rules, then by the
 * alias table.
 */
export function route(
  config: RoutingConfig,
  prices: Prices | null,
  request: RouteRequest,
  providers: (id: string) => ProviderView,
  room: BudgetRoom,
  now: number,
): RouteOutcome {
  const declared = new Map(config.providers.map((p) => [p.id, new Set(p.models)]));
  const direct = directCandidates(declared, request.requested);
  const rule = config.rules.find((r) => matches(r, request, direct.length > 0));
  let candidates: string[];
  let strategy: ModelRoute["strategy"];
  let alias: string | null = null;
  const asked = own(config.aliases, request.requested);
  if (rule) {
    if ("alias" in rule.use) {
      alias = rule.use.alias;
      const target = own(config.aliases, alias)!;
      candidates = target.candidates;
      strategy = target.strategy;
    } else {
      candidates = rule.use.candidates;
      strategy = rule.use.strategy;
    }
  } else if (direct.length) {
    candidates = direct;
    strategy = "direct";
  } else if (asked) {
    alias = request.requested;
    candidates = asked.candidates;
    strategy = asked.strategy;
  } else {
    const names = Object.keys(config.aliases);
    return {
      ok: false,
      status: 404,
      code: "model_not_found",
      message:
        config.providers.length === 0
          ? "this tenant has no model providers configured (an admin sets them with PUT /v1/gateway/config or `auraison gateway apply`)"
          : `no alias or model '${request.requested}' in this tenant${names.length ? `; aliases: ${names.join(", ")}` : ""}`,
      route: null,
      retryAfterMs: null,
    };
  }

  const considered: (RouteCandidate & { probe: boolean; order: number })[] = candidates.map(
    (c, order) => {
      const slash = c.indexOf("/");
      const provider = c.slice(0, slash);
      const model = c.slice(slash + 1);
      const view = providers(provider);
      const est = estimateCost(prices, provider, model, {
        input: request.inputTokens,
        output: request.outputTokens,
      });
      const base = {
        provider,
        model,
        est_cost_usd: est,
        latency_ms: view.latencyMs === null ? null : Math.round(view.latencyMs * 10) / 10,
        error_rate: view.errorRate === null ? null : Math.round(view.errorRate * 1000) / 1000,
        probe: false,
        order,
      };
      const drop = (reason: string) => ({ ...base, kept: false, reason });
      if (view.unusable) return drop(view.unusable);
      if (view.circuit === "half_open")
        return drop("circuit half-open: its probe call is in flight");
      if (view.circuit === "open" && !view.probeDue)
        return drop(
          `circuit open${view.nextProbeAt ? ` until ${new Date(view.nextProbeAt).toISOString()}` : ""}`,
        );
      if (room.usd) {
        if (est === null) return drop(`unpriced, and the ${room.usd.scope} USD budget applies`);
        if (est > room.usd.remaining)
          return drop(
            `est. ${usd(est)} is over the ${usd(Math.max(0, room.usd.remaining))} left in the ${room.usd.scope} budget`,
          );
      }
      const probe = view.circuit === "open";
      const notes = [est === null ? "unpriced" : `est. ${usd(est)}`];
      if (view.latencyMs !== null) notes.push(`~${Math.round(view.latencyMs)} ms`);
      if (probe) notes.push("probes the open circuit");
      return { ...base, kept: true, probe, reason: notes.join(", ") };
    },
  );

  const kept = considered.filter((c) => c.kept);
  order(kept, strategy);
  // Providers failing half their calls or more go behind the healthy ones; a probe keeps its
  // place, since testing the provider is its purpose.
  const failing = (c: (typeof kept)[number]) =>
    !c.probe && (c.error_rate ?? 0) >= UNHEALTHY_ERROR_RATE;
  const healthy = kept.filter((c) => !failing(c));
  const unhealthy = kept.filter(failing);
  for (const c of unhealthy)
    c.reason += `, demoted: error rate ${Math.round((c.error_rate ?? 0) * 100)}%`;
  const chain = [...healthy, ...unhealthy];
  const chosen = chain[0];
  const decision: ModelRoute = {
    requested: request.requested,
    rule: rule?.id ?? null,
    alias,
    strategy,
    candidates: considered.map(({ probe: _p, order: _o, ...c }) => c),
    chosen: chosen ? { provider: chosen.provider, model: chosen.model } : null,
    reason: chosen ? chosenReason(strategy, chosen, chain.length) : "no candidate is available",
  };
  if (!chosen) {
    const budgetBound = considered.some((c) => c.reason.includes("budget"));
    const probes = candidates
      .map((c) => providers(c.slice(0, c.indexOf("/"))).nextProbeAt)
      .filter((t): t is number => t !== null);
    return {
      ok: false,
      status: budgetBound ? 429 : 503,
      code: budgetBound ? "budget_exceeded" : "no_provider_available",
      message: `no candidate for '${request.requested}' can take this call: ${considered.map((c) => `${c.provider}/${c.model}: ${c.reason}`).join("; ")}`,
      route: decision,
      retryAfterMs: probes.length ? Math.max(0, Math.min(...probes) - now) : null,
    };
  }
  return {
    ok: true,
    route: decision,
    alias,
    chain: chain.map((c) => ({
      provider: c.provider,
      model: c.model,
      probe: c.probe,
      estCostUsd: c.est_cost_usd,
    })),
  };
}

/** `provider/model` as declared, or every provider that lists a bare model id. */
function directCandidates(declared: Map<string, Set<string>>, requested: string): string[] {
  const slash = requested.indexOf("/");
  if (slash > 0) {
    const provider = requested.slice(0, slash);
    if (declared.get(provider)?.has(requested.slice(slash + 1))) return [requested];
  }
  return [...declared]
    .filter(([, models]) => models.has(requested))
    .map(([id]) => `${id}/${requested}`);
}

function matches(rule: RouteRule, request: RouteRequest, concrete: boolean): boolean {
  const when = rule.when;
  if (when.model ? !when.model.includes(request.requested) : concrete) return false;
  if (when.app && (request.app === null || !when.app.includes(request.app))) return false;
  if (
    when.intent_type &&
    (request.intentType === null || !when.intent_type.includes(request.intentType))
  )
    return false;
  if (when.tags_any && !when.tags_any.some((t) => request.tags.includes(t))) return false;
  if (when.tags_all && !when.tags_all.every((t) => request.tags.includes(t))) return false;
  return true;
}

function order(
  list: { est_cost_usd: number | null; latency_ms: number | null; order: number }[],
  strategy: RouteStrategy | "direct",
): void {
  const last = Number.POSITIVE_INFINITY;
  if (strategy === "cost")
    list.sort((a, b) => (a.est_cost_usd ?? last) - (b.est_cost_usd ?? last) || a.order - b.order);
  else if (strategy === "latency")
    list.sort((a, b) => (a.latency_ms ?? last) - (b.latency_ms ?? last) || a.order - b.order);
}

function chosenReason(
  strategy: ModelRoute["strategy"],
  chosen: RouteCandidate & { probe: boolean },
  available: number,
): string {
  const of = `of ${available} available`;
  let reason: string;
  if (strategy === "direct") reason = "the caller asked for this model";
  else if (strategy === "cost")
    reason =
      chosen.est_cost_usd === null
        ? `first ${of}; none is priced`
        : `cheapest ${of} (est. ${usd(chosen.est_cost_usd)})`;
  else if (strategy === "latency")
    reason =
      chosen.latency_ms === null
        ? `first ${of}; no latency observed yet`
        : `fastest ${of} (~${Math.round(chosen.latency_ms)} ms)`;
  else reason = `first ${of} in the configured order`;
  return chosen.probe ? `${reason}; this call probes its open circuit` : reason;
}
