import type { Context } from "hono";
import { Failure, HEADERS } from "../../../contract";
import type { Logger } from "../../log";
import {
  type AdmitRequest,
  type AdmitResult,
  type CachedAnswer,
  outputCapOf,
  type SettleRequest,
  type Ticket,
  type UpstreamCandidate,
} from "../admission";
import { requestHash } from "../cache/cache-key";
import { errorResponse } from "../dialects/errors";
import { WorkerLeases, workerLeases } from "../lease/worker-leases";
import { BAD_RESPONSE } from "../resilience/failures";
import { answerUsage, estimatedUsage, type JsonAnswer, jsonAnswer, streamUsage } from "./answer";
import { CallSpans } from "./call-spans";
import { Clock } from "./clock";
import { ENDPOINTS, type Endpoint } from "./endpoints";
import { type Inbound, readInbound } from "./inbound";
import { relayStream } from "./relay-stream";
import { type ChainLog, runChain } from "./upstream-chain";

type GatewayContext = Context<{ Bindings: Env }>;

/** Streams kept for the cache are capped here; the tenant's own limit applies on top. */
const CAPTURE_LIMIT = 1_572_864;

/**
 * One model call, in the Worker: read and validate it; admit it under a lease this isolate
 * holds for calls like it, or else ask the tenant object to admit it (one RPC: key,
 * attribution, route, limits, reservation, cache; it may grant a lease for the next ones);
 * answer from the cache or run the fallback chain; answer the caller in its own dialect;
 * settle with the tenant object after the caller has its answer (`waitUntil`, batched), so
 * settlement adds nothing to the latency.
 */
export async function handleCall(
  c: GatewayContext,
  endpoint: Endpoint,
  log: Logger,
): Promise<Response> {
  const clock = new Clock();
  const spec = ENDPOINTS[endpoint];
  const dialect = spec.dialect;
  let inbound: Inbound;
  try {
    inbound = await readInbound(c.req.raw, endpoint, c.env);
  } catch (error) {
    if (error instanceof Failure) return errorResponse(dialect, error, timing(clock));
    throw error;
  }
  // Only a call no lease covers (or a renewal) reaches the tenant object: a leased call never
  // pays for the stub (its id is a hash of the tenant's name).
  const tenantObject = () => c.env.TENANT.getByName(inbound.tenant);
  const cache = spec.cache;
  // A call the cache may answer is hashed only when it goes to the tenant object, which holds
  // the cache: a leased one (the cache is off for it) never pays for hashing its body.
  const replayable =
    cache !== null && inbound.cacheMode !== "no-store" && cache.replayable(inbound.body);
  const spans = CallSpans.start(c.env, (p) => c.executionCtx.waitUntil(p), inbound, spec.operation);
  const shape = WorkerLeases.shape(inbound, spec.operation);
  const leasable = inbound.estimate.documents.length === 0;
  const admitRequest: AdmitRequest = {
    secret: inbound.secret,
    dialect,
    operation: spec.operation,
    requested: inbound.requested,
    stream: inbound.stream,
    attribution: inbound.attribution,
    estimate: inbound.estimate,
    cache: { hash: null, mode: inbound.cacheMode },
    lease: leasable,
  };
  const leaseOf = () => workerLeases.admit(shape, spec.operation, inbound.estimate, replayable);
  // Calls that find no lease while one is being asked for wait for it rather than ask again,
  // unless no lease would admit them (worker-leases.ts: `caching`; a call with a document:
  // lease.ts, `fits`).
  const leased = !leasable
    ? null
    : (leaseOf() ?? ((await workerLeases.awaitAsked(shape, replayable)) ? leaseOf() : null));
  let admitted: AdmitResult;
  if (leased) {
    const { grant } = leased;
    admitted = {
      kind: "proceed",
      ticket: leased.ticket,
      chain: grant.chain,
      cacheKey: null,
      outputCap: outputCapOf(grant.budgeted, inbound.estimate.outputTokens, grant.maxOutputTokens),
      defaultMaxTokens: grant.maxOutputTokens,
    };
    if (leased.renew)
      c.executionCtx.waitUntil(
        workerLeases
          .ask(
            shape,
            inbound.tenant,
            () => tenantObject().gatewayLease(admitRequest),
            (grant) => grant,
          )
          .then((grant) => (grant ? workerLeases.closeAtExpiry(c.env, shape) : undefined))
          .catch((error: unknown) => log.error("renewing a gateway lease failed", { error })),
      );
  } else {
    if (replayable)
      admitRequest.cache.hash = await requestHash(
        endpoint,
        cache,
        inbound.stream,
        inbound.body,
        inbound.anthropicBeta,
      );
    // A call no lease admits is no admission the shape's other calls should wait on.
    admitted = !leasable
      ? await tenantObject().gatewayAdmit(admitRequest)
      : await workerLeases.ask<AdmitResult>(
          shape,
          inbound.tenant,
          () => tenantObject().gatewayAdmit(admitRequest),
          (answer) => (answer.kind === "proceed" ? answer.lease : null),
          replayable,
        );
    if (admitted.kind === "proceed" && admitted.lease)
      c.executionCtx.waitUntil(
        workerLeases
          .closeAtExpiry(c.env, shape)
          .catch((error: unknown) => log.error("closing a gateway lease failed", { error })),
      );
    // The object keys a call like this for its cache only when the cache serves it.
    if (replayable && admitted.kind !== "refused")
      workerLeases.cacheIs(
        shape,
        inbound.tenant,
        admitted.kind === "cached" || admitted.cacheKey !== null,
      );
  }
  spans?.admitted(admitted);
  if (admitted.kind === "refused")
    return errorResponse(
      dialect,
      new Failure(admitted.status, admitted.code, admitted.message, {
        ...(admitted.limit ? { limit: admitted.limit } : {}),
        ...(admitted.retryAfterMs !== undefined ? { retryAfterMs: admitted.retryAfterMs } : {}),
      }),
      timing(clock),
    );
  // The gateway's own time is what it took until the caller's answer started, so it is taken
  // when the response is built, not when a stream ends.
  let gatewayMs = clock.gatewayMs();
  const ticket = admitted.ticket;
  const settle = (
    request: Omit<SettleRequest, "ticket" | "stream" | "gatewayMs" | "latencyMs">,
  ) => {
    spans?.settled(request);
    const settled = workerLeases.settle(c.env, inbound.tenant, {
      ticket,
      stream: inbound.stream,
      gatewayMs,
      latencyMs: clock.now(),
      ...request,
    });
    // Leases this isolate retired for other tenants are closed in their own batches.
    const others = workerLeases
      .closesDue()
      .filter((t) => t !== inbound.tenant)
      .map((t) => workerLeases.settle(c.env, t, null));
    c.executionCtx.waitUntil(
      Promise.all([settled, ...others]).catch((error: unknown) =>
        log.error("settling a model call failed", { error, call_id: ticket.callId }),
      ),
    );
  };
  if (admitted.kind === "cached") {
    const response = replay(admitted.answer, inbound.stream, {
      ...timing(clock),
      ...callHeaders(admitted.ticket, admitted.answer.provider, admitted.answer.model),
      [HEADERS.cache]: "hit",
    });
    settle({
      outcome: "ok",
      provider: admitted.answer.provider,
      model: admitted.answer.model,
      responseModel: admitted.answer.responseModel,
      responseId: null,
      finishReasons: [],
      usage: admitted.answer.usage,
      usageEstimated: false,
      ttftMs: inbound.stream ? clock.now() : null,
      attempts: [],
      health: [],
      errorType: null,
      cacheHit: true,
      store: null,
    });
    return response;
  }

  const cacheState =
    inbound.cacheMode !== "default" ? "bypass" : admitted.cacheKey ? "miss" : "skip";
  const record: ChainLog = { attempts: [], health: [], billed: [], spans };
  const result = await runChain(
    inbound,
    admitted.chain,
    { outputCap: admitted.outputCap, defaultMaxTokens: admitted.defaultMaxTokens },
    c.env,
    clock,
    record,
  );
  gatewayMs = clock.gatewayMs();
  const base = {
    attempts: record.attempts,
    billed: record.billed,
    health: record.health,
    cacheHit: false,
  } as const;

  if (result.kind === "failed" || result.kind === "rejected") {
    const last = record.attempts.at(-1);
    const failure =
      result.kind === "failed"
        ? result.failure
        : new Failure(
            result.status,
            "upstream_rejected",
            `${result.candidate.provider.id}/${result.candidate.model} refused the request: ${errorText(result.text)}`,
          );
    const response =
      // The provider's own answer when the caller speaks its dialect and it came whole; a cut
      // one is no longer JSON, and the gateway's error says what it began with.
      result.kind === "rejected" && result.complete && result.connection.dialect === dialect
        ? new Response(result.text, {
            status: result.status,
            headers: {
              "content-type": "application/json",
              ...timing(clock),
              ...callHeaders(admitted.ticket, result.candidate.provider.id, result.candidate.model),
            },
          })
        : errorResponse(dialect, failure, {
            ...timing(clock),
            [HEADERS.callId]: admitted.ticket.callId,
          });
    settle({
      ...base,
      outcome: "error",
      provider: last?.provider ?? null,
      model: last?.model ?? null,
      responseModel: null,
      responseId: null,
      finishReasons: [],
      usage: null,
      usageEstimated: false,
      ttftMs: null,
      errorType: failure.code,
      store: null,
    });
    return response;
  }

  const { candidate, connection } = result;
  // The cache key names the route's first candidate: an answer from a fallback is not its answer
  // (for embeddings, vectors of another model, which must never mix with the first's).
  const storeAt = candidate === admitted.chain[0] ? admitted.cacheKey : null;
  const headers = {
    ...callHeaders(admitted.ticket, candidate.provider.id, candidate.model),
    [HEADERS.cache]: cacheState,
  };
  if (result.kind === "json") {
    let answer: JsonAnswer;
    try {
      answer = jsonAnswer(
        endpoint,
        connection.dialect,
        result.text,
        result.json,
        Date.now(),
        inbound.body,
      );
    } catch (error) {
      // A JSON object whose fields are not what its dialect says (a choice that is null, content
      // that is no list): the provider answered, and billed, but nothing can be relayed. The call
      // fails, charged what the answer reports it used (else estimated from its size), and the
      // attempt counts as failed, as an answer that is not JSON does (upstream-chain.ts). No
      // fallback: the provider has generated the whole answer, so another attempt would spend
      // the call's reservation twice.
      const label = `${candidate.provider.id}/${candidate.model}`;
      const reported = answerUsage(endpoint, connection.dialect, result.json);
      failAnswered(record, BAD_RESPONSE, `a malformed answer: ${errorMessage(error)}`);
      settle({
        ...base,
        outcome: "error",
        provider: candidate.provider.id,
        model: candidate.model,
        responseModel: typeof result.json.model === "string" ? result.json.model : null,
        responseId: typeof result.json.id === "string" ? result.json.id : null,
        finishReasons: [],
        usage: reported ?? estimatedUsage(inbound, result.text.length),
        usageEstimated: reported === null,
        ttftMs: null,
        errorType: BAD_RESPONSE,
        store: null,
      });
      return errorResponse(
        dialect,
        new Failure(
          502,
          BAD_RESPONSE,
          `${label} gave an answer the gateway could not read (not a valid ${connection.dialect === "openai" ? "OpenAI" : "Anthropic"} response)`,
        ),
        {
          ...timing(clock),
          ...callHeaders(admitted.ticket, candidate.provider.id, candidate.model),
        },
      );
    }
    const usage = answer.usage ?? estimatedUsage(inbound, answer.outputChars);
    const response = new Response(answer.body, {
      headers: { "content-type": "application/json", ...timing(clock), ...headers },
    });
    settle({
      ...base,
      outcome: "ok",
      provider: candidate.provider.id,
      model: candidate.model,
      responseModel: answer.responseModel,
      responseId: answer.responseId,
      finishReasons: answer.finishReasons,
      usage,
      usageEstimated: answer.usage === null,
      ttftMs: null,
      errorType: null,
      store: storeAt
        ? { key: storeAt, answer: cached(answer.body, candidate, answer.responseModel, usage) }
        : null,
    });
    return response;
  }

  const ttftMs = clock.now();
  const relayed = relayStream(result.reader, result.observer, result.buffered, result.ended, {
    upstream: result.observer.dialect,
    client: spec.wire,
    clientWantsUsage: inbound.clientWantsUsage,
    request: inbound.body,
    idleTimeoutMs: candidate.provider.resilience.idle_timeout_ms,
    captureLimit: storeAt ? CAPTURE_LIMIT : null,
  });
  const response = new Response(relayed.body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      ...timing(clock),
      ...headers,
    },
  });
  c.executionCtx.waitUntil(
    relayed.ended.then((end) => {
      const { usage, estimated } = streamUsage(end, inbound);
      if (end.outcome === "error") {
        const last = record.attempts.at(-1);
        if (last)
          record.attempts[record.attempts.length - 1] = {
            ...last,
            outcome: "error",
            error_type: end.errorType,
          };
        record.health.push({
          provider: candidate.provider.id,
          ok: false,
          breakerFailure: true,
          latencyMs: clock.now(),
          ttftMs: null,
          error: end.errorType,
          probe: false,
        });
      }
      settle({
        ...base,
        outcome: end.outcome,
        provider: candidate.provider.id,
        model: candidate.model,
        responseModel: end.responseModel,
        responseId: end.responseId,
        finishReasons: end.finishReasons,
        usage,
        usageEstimated: estimated,
        ttftMs,
        errorType: end.errorType,
        store:
          storeAt && end.transcript !== null
            ? { key: storeAt, answer: cached(end.transcript, candidate, end.responseModel, usage) }
            : null,
      });
    }),
  );
  return response;
}

/**
 * The chain's answered attempt turned out unusable: logged as failed, and its provider's outcome
 * a failure that counts toward its circuit (runChain logged it a success when it answered).
 */
function failAnswered(record: ChainLog, errorType: string, detail: string): void {
  const last = record.attempts.at(-1);
  if (last)
    record.attempts[record.attempts.length - 1] = {
      ...last,
      outcome: "error",
      error_type: errorType,
    };
  const health = record.health.at(-1);
  if (health)
    record.health[record.health.length - 1] = {
      ...health,
      ok: false,
      breakerFailure: true,
      error: detail.slice(0, 300),
    };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function cached(
  body: string,
  candidate: UpstreamCandidate,
  responseModel: string | null,
  usage: CachedAnswer["usage"],
): CachedAnswer {
  return { body, provider: candidate.provider.id, model: candidate.model, responseModel, usage };
}

function timing(clock: Clock): Record<string, string> {
  const own = clock.gatewayMs();
  const total = clock.now();
  return {
    [HEADERS.gatewayTime]: own.toFixed(2),
    "server-timing": `gateway;dur=${own.toFixed(2)}, upstream;dur=${Math.max(0, total - own).toFixed(2)}`,
  };
}

function callHeaders(ticket: Ticket, provider: string, model: string): Record<string, string> {
  return {
    [HEADERS.callId]: ticket.callId,
    [HEADERS.provider]: provider,
    [HEADERS.model]: model,
    [HEADERS.admission]: ticket.lease === null ? "tenant" : "lease",
  };
}

/** A cached answer, replayed in the form it was given: JSON, or the same SSE events in order. */
function replay(answer: CachedAnswer, stream: boolean, headers: Record<string, string>): Response {
  if (!stream)
    return new Response(answer.body, {
      headers: { "content-type": "application/json", ...headers },
    });
  const events = answer.body.match(/[\s\S]*?(?:\r\n\r\n|\n\n|\r\r)/g) ?? [answer.body];
  const encoder = new TextEncoder();
  let i = 0;
  return new Response(
    new ReadableStream<Uint8Array>({
      pull(controller) {
        if (i < events.length) controller.enqueue(encoder.encode(events[i++]!));
        else controller.close();
      },
    }),
    {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        ...headers,
      },
    },
  );
}

function errorText(text: string): string {
  try {
    const json = JSON.parse(text) as { error?: { message?: string } | string };
    const message = typeof json.error === "string" ? json.error : json.error?.message;
    if (message) return message.slice(0, 500);
  } catch {}
  return text.slice(0, 500) || "no details";
}
