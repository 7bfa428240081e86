import type { ModelAttempt } from "../../../contract";
import { Failure, REDACTED, redactString } from "../../../contract";
import { readTextUpTo } from "../../http/body";
import type { BilledTry, ProviderOutcome, UpstreamCandidate } from "../admission";
import type { AnthropicMessagesRequest } from "../dialects/anthropic";
import type { Wire } from "../dialects/errors";
import type { OpenAiChatRequest, OpenAiResponsesRequest } from "../dialects/openai";
import type { CallUsage } from "../dialects/usage";
import { KeyUnavailable } from "../keys/resolve";
import { type Connection, connectionOf, sendUpstream, upstreamPath } from "../providers/upstream";
import { UpstreamRefused } from "../providers/upstream-url";
import { retryAfterMs, retryDelayMs } from "../resilience/backoff";
import {
  BAD_RESPONSE,
  type FailureVerdict,
  judgeStatus,
  NETWORK_FAILURE,
  TIMEOUT_FAILURE,
} from "../resilience/failures";
import { type SseEvent, SseReader } from "../sse/reader";
import { anthropicToOpenAi, openAiToAnthropic, UnsupportedRequest } from "../translate/requests";
import { responsesToAnthropic } from "../translate/responses-request";
import { type Observation, StreamObserver } from "../translate/streams";
import type { CallSpans } from "./call-spans";
import type { Clock } from "./clock";
import { ENDPOINTS } from "./endpoints";
import type { Inbound } from "./inbound";

/** A candidate that answered: its connection and what it sent. */
interface Answered {
  candidate: UpstreamCandidate;
  connection: Connection;
  /** When the answer's first token arrived (streams). */
  firstTokenAt: number | null;
}

export type ChainResult =
  | (Answered & { kind: "json"; text: string; json: Record<string, unknown> })
  | (Answered & {
      kind: "stream";
      reader: SseReader;
      observer: StreamObserver;
      /** Events read while waiting for the first token, to send first. */
      buffered: { event: SseEvent; seen: Observation }[];
      /** The stream already ended (an answer with no tokens at all). */
      ended: boolean;
    })
  /** The provider refused the request itself (a 4xx that is the caller's fault): passed on. */
  | {
      kind: "rejected";
      candidate: UpstreamCandidate;
      connection: Connection;
      status: number;
      text: string;
      /** Whether `text` is the whole answer (else its first MAX_ERROR_BYTES). */
      complete: boolean;
    }
  | { kind: "failed"; failure: Failure };

export interface ChainLog {
  attempts: ModelAttempt[];
  /** How each try's provider fared, but for a try the request's own fault failed. */
  health: ProviderOutcome[];
  /** Failed tries whose provider had reported usage: it bills them, so the call is charged. */
  billed: BilledTry[];
  /** The call's spans, when traces are exported: each attempt gets its own. */
  spans?: CallSpans | null;
}

/** A deadline on an attempt: aborts the upstream request and says which deadline hit. */
class Deadline {
  readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | null = null;
  expired = false;

  arm(ms: number): void {
    this.clear();
    this.timer = setTimeout(() => {
      this.expired = true;
      this.controller.abort(new Error(`no answer within ${ms} ms`));
    }, ms);
  }

  clear(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Where a candidate takes the call, and the body in its dialect, for its model. */
function upstreamRequest(
  inbound: Inbound,
  { provider, model }: UpstreamCandidate,
  connection: Connection,
  caps: { outputCap: number | null; defaultMaxTokens: number },
): { path: string; body: Record<string, unknown> } {
  // A Responses call goes to an Anthropic provider as a message (translated).
  const translated = inbound.endpoint === "responses" && connection.dialect === "anthropic";
  const path = upstreamPath(provider, translated ? "messages" : inbound.endpoint);
  if (path === null)
    throw new UnsupportedRequest("model", `${provider.id} does not serve ${inbound.endpoint}`);
  return { path, body: upstreamBody(inbound, connection, model, caps) };
}

/** The request body in the provider's dialect, for this model. */
function upstreamBody(
  inbound: Inbound,
  connection: Connection,
  model: string,
  caps: { outputCap: number | null; defaultMaxTokens: number },
): Record<string, unknown> {
  if (inbound.endpoint === "responses" && connection.dialect === "anthropic")
    return responsesToAnthropic(
      inbound.body as OpenAiResponsesRequest,
      model,
      caps.outputCap ?? caps.defaultMaxTokens,
    ) as Record<string, unknown>;
  if (ENDPOINTS[inbound.endpoint].native !== null) {
    const body: Record<string, unknown> = { ...inbound.body, model };
    if (inbound.endpoint === "responses" && caps.outputCap !== null)
      body.max_output_tokens ??= caps.outputCap;
    return body;
  }
  if (inbound.dialect === connection.dialect) {
    const body: Record<string, unknown> = { ...inbound.body, model };
    if (connection.dialect === "openai") {
      if (inbound.stream && connection.usageInStream)
        body.stream_options = { ...(body.stream_options as object | null), include_usage: true };
      if (caps.outputCap !== null && body.max_tokens == null && body.max_completion_tokens == null)
        body[connection.maxTokensField] = caps.outputCap;
    }
    return body;
  }
  if (connection.dialect === "anthropic")
    return openAiToAnthropic(
      inbound.body as OpenAiChatRequest,
      model,
      caps.outputCap ?? caps.defaultMaxTokens,
    ) as Record<string, unknown>;
  return anthropicToOpenAi(inbound.body as AnthropicMessagesRequest, model, connection) as Record<
    string,
    unknown
  >;
}

/**
 * Runs a call down its fallback chain: each candidate in turn, each retried with backoff on
 * 429, 5xx and timeouts (honouring Retry-After) up to its provider's limit. A streamed answer
 * counts only once its first token is in: a stream that fails before that falls back like any
 * failed attempt. Every try is logged for the call's `model_call` event and the providers'
 * health.
 */
export async function runChain(
  inbound: Inbound,
  chain: UpstreamCandidate[],
  caps: { outputCap: number | null; defaultMaxTokens: number },
  env: Env,
  clock: Clock,
  log: ChainLog,
): Promise<ChainResult> {
  const failures: string[] = [];
  const kinds = new Set<string>();
  let unsupported: UnsupportedRequest | null = null;
  for (const candidate of chain) {
    const { provider, model } = candidate;
    const connection = connectionOf(provider);
    const settings = provider.resilience;
    const label = `${provider.id}/${model}`;
    let body: Record<string, unknown>;
    let path: string;
    try {
      ({ path, body } = upstreamRequest(inbound, candidate, connection, caps));
    } catch (error) {
      if (!(error instanceof UnsupportedRequest)) throw error;
      unsupported ??= error;
      log.attempts.push(attempt(provider.id, model, "skipped", "unsupported_request", null, 0));
      failures.push(`${label}: ${error.message}`);
      continue;
    }
    const tries = candidate.probe ? 1 : settings.max_retries + 1;
    let wait: number | null = null;
    let lastVerdict: FailureVerdict | null = null;
    for (let tryNo = 0; tryNo < tries; tryNo++) {
      if (tryNo > 0) {
        const delay = retryDelayMs(tryNo, settings, wait);
        if (delay === null) break;
        await clock.upstream(sleep(delay));
      }
      const started = clock.now();
      /** A try that answered: logged as ok, for the call's event and the provider's health. */
      const succeeded = (ttft: boolean) => {
        const ms = clock.now() - started;
        log.attempts.push(attempt(provider.id, model, "ok", null, status, ms));
        log.health.push({
          provider: provider.id,
          ok: true,
          breakerFailure: false,
          latencyMs: ms,
          ttftMs: ttft ? ms : null,
          error: null,
          probe: candidate.probe,
        });
      };
      const deadline = new Deadline();
      deadline.arm(inbound.stream ? settings.first_byte_timeout_ms : settings.timeout_ms);
      let verdict: FailureVerdict;
      let status: number | null = null;
      let detail: string;
      let reported: CallUsage | null = null;
      try {
        const { response, secrets } = await clock.upstream(
          sendUpstream(
            provider,
            {
              path,
              body,
              stream: inbound.stream,
              signal: deadline.controller.signal,
              anthropicBeta: inbound.anthropicBeta,
              // Each try is logged exactly once after it starts: its place among the attempts.
              trace: log.spans?.attempt(log.attempts.length) ?? inbound.trace,
            },
            env,
            inbound.tenant,
          ),
        );
        status = response.status;
        if (!response.ok) {
          const read = await clock
            .upstream(readTextUpTo(response.body, MAX_ERROR_BYTES, cancel))
            .catch(() => ({ text: "", complete: false }));
          const text = scrub(read.text, secrets);
          deadline.clear();
          verdict = judgeStatus(response.status);
          wait = retryAfterMs(response.headers, Date.now());
          detail = `${response.status}${summary(text)}`;
          if (!verdict.fallback) {
            // The request's own fault says nothing of the provider's health: no outcome, so its
            // error rate stands, and a probe this call carried goes to the next call
            // (tenant-gateway.ts, `skipProbe`) rather than failing and reopening the circuit.
            log.attempts.push(
              attempt(provider.id, model, "error", verdict.type, status, clock.now() - started),
            );
            return {
              kind: "rejected",
              candidate,
              connection,
              status: response.status,
              text,
              complete: read.complete,
            };
          }
        } else if (!inbound.stream) {
          const read = await clock.upstream(readTextUpTo(response.body, MAX_ANSWER_BYTES, cancel));
          deadline.clear();
          const json = read.complete ? parseObject(read.text) : null;
          if (json) {
            succeeded(false);
            return {
              kind: "json",
              candidate,
              connection,
              text: read.text,
              json,
              firstTokenAt: null,
            };
          }
          verdict = { retry: true, fallback: true, breaker: true, type: BAD_RESPONSE };
          detail = read.complete
            ? "the answer was not a JSON object"
            : `the answer was over ${MAX_ANSWER_BYTES} bytes`;
        } else {
          const spec = ENDPOINTS[inbound.endpoint];
          const wire = spec.native === connection.dialect ? spec.wire : connection.dialect;
          const opened = await openStream(response, wire, deadline, clock);
          if (opened.ok) {
            deadline.clear();
            succeeded(true);
            return {
              kind: "stream",
              candidate,
              connection,
              firstTokenAt: clock.now(),
              ...opened.stream,
            };
          }
          verdict = opened.verdict;
          detail = opened.detail;
          reported = opened.usage;
        }
      } catch (error) {
        deadline.clear();
        if (error instanceof KeyUnavailable || error instanceof UpstreamRefused) {
          const reason = error instanceof KeyUnavailable ? "missing_key" : "refused_upstream";
          log.attempts.push(attempt(provider.id, model, "skipped", reason, null, 0));
          failures.push(`${label}: ${error.message}`);
          lastVerdict = null;
          break;
        }
        verdict = deadline.expired ? TIMEOUT_FAILURE : NETWORK_FAILURE;
        detail = deadline.expired
          ? `no ${inbound.stream ? "first token" : "answer"} within ${inbound.stream ? settings.first_byte_timeout_ms : settings.timeout_ms} ms`
          : `unreachable: ${error instanceof Error ? error.message : String(error)}`;
      }
      const ms = clock.now() - started;
      if (reported && reported.input + reported.output > 0)
        log.billed.push({ attempt: log.attempts.length, usage: reported });
      log.attempts.push(attempt(provider.id, model, "error", verdict.type, status, ms));
      log.health.push(outcome(provider.id, false, verdict, ms, detail, candidate.probe));
      lastVerdict = verdict;
      failures.push(`${label}: ${detail}`);
      if (!verdict.retry) break;
    }
    if (lastVerdict) kinds.add(lastVerdict.type);
  }
  if (unsupported && log.attempts.every((a) => a.outcome === "skipped"))
    return {
      kind: "failed",
      failure: new Failure(
        400,
        "unsupported_request",
        `no candidate provider can take this request: ${unsupported.message}`,
        {
          param: unsupported.path,
        },
      ),
    };
  const status =
    kinds.size === 1 && kinds.has("429")
      ? 429
      : kinds.size === 1 && kinds.has("timeout")
        ? 504
        : 502;
  return {
    kind: "failed",
    failure: new Failure(
      status,
      status === 429
        ? "upstream_rate_limited"
        : status === 504
          ? "upstream_timeout"
          : "upstream_failed",
      `every candidate failed: ${failures.join("; ")}`,
    ),
  };
}

/** Reads a stream until its first token (or its end): the commit point of a streamed attempt. */
async function openStream(
  response: Response,
  dialect: Wire,
  deadline: Deadline,
  clock: Clock,
): Promise<
  | {
      ok: true;
      stream: {
        reader: SseReader;
        observer: StreamObserver;
        buffered: { event: SseEvent; seen: Observation }[];
        ended: boolean;
      };
    }
  | { ok: false; verdict: FailureVerdict; detail: string; usage: CallUsage | null }
> {
  if (!response.body)
    return {
      ok: false,
      verdict: { ...NETWORK_FAILURE, type: "empty_stream" },
      detail: "no body",
      usage: null,
    };
  const reader = new SseReader(response.body);
  const observer = new StreamObserver(dialect);
  const buffered: { event: SseEvent; seen: Observation }[] = [];
  const broken = (type: string, detail: string) => {
    void reader.cancel();
    return {
      ok: false as const,
      verdict: { retry: true, fallback: true, breaker: true, type },
      detail,
      // What the stream reported before it broke (Anthropic's input, at its start) is billed.
      usage: observer.usage,
    };
  };
  for (;;) {
    let event: SseEvent | null;
    try {
      event = await clock.upstream(reader.next());
    } catch {
      return deadline.expired
        ? broken("timeout", "no first token in time")
        : broken("stream_error", "the stream broke before its first token");
    }
    if (event === null) return broken("stream_error", "the stream ended before its first token");
    const seen = observer.observe(event);
    if (seen.error)
      return broken(
        "stream_error",
        `the stream reported an error before its first token: ${seen.error}`,
      );
    buffered.push({ event, seen });
    if (seen.token || seen.terminal)
      return { ok: true, stream: { reader, observer, buffered, ended: seen.terminal } };
  }
}

function attempt(
  provider: string,
  model: string,
  result: ModelAttempt["outcome"],
  errorType: string | null,
  status: number | null,
  ms: number,
): ModelAttempt {
  return {
    provider,
    model,
    outcome: result,
    error_type: errorType,
    http_status: status !== null && status >= 100 && status <= 599 ? status : null,
    latency_ms: Math.max(0, Math.round(ms)),
  };
}

function outcome(
  provider: string,
  ok: boolean,
  verdict: FailureVerdict,
  ms: number,
  detail: string,
  probe: boolean,
): ProviderOutcome {
  return {
    provider,
    ok,
    breakerFailure: verdict.breaker,
    latencyMs: ms,
    ttftMs: null,
    error: detail.slice(0, 300),
    probe,
  };
}

/**
 * The most of an upstream's answer the gateway reads (a chat answer is rarely over a megabyte):
 * an isolate holds the calls of every tenant routed to it, and one provider's endless answer
 * must not take its memory. A longer answer is a bad response; of an error, the start is enough.
 */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;
const MAX_ERROR_BYTES = 64 * 1024;

const cancel = (reader: ReadableStreamDefaultReader<Uint8Array>) => reader.cancel();

/** A provider's error text without the credentials it was sent (some echo them back). */
function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join(REDACTED);
  return redactString(out);
}

function summary(text: string): string {
  const json = parseObject(text);
  const error = json?.error as { message?: unknown } | undefined;
  const message = typeof error?.message === "string" ? error.message : text.trim();
  return message ? ` ${message.slice(0, 200)}` : "";
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}
