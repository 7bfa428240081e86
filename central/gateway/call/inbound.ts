import type { z } from "zod";
import {
  AttributionHeaders,
  check,
  Failure,
  HEADERS,
  type TraceContext,
  traceContextOf,
} from "../../../contract";
import {
  bearerToken,
  configuredKeySecret,
  KEY_SECRET_MISSING,
  parseKey,
  verifyKey,
} from "../../auth/keys";
import { checkJsonType, parseJson, readBodyText } from "../../http/body";
import type { AdmitRequest } from "../admission";
import type { Dialect } from "../dialects/errors";
import { ENDPOINTS, type Endpoint } from "./endpoints";
import { documentBoundOf, inputTokenBound } from "./estimate";

/** Largest model request accepted (images travel inline as base64). */
export const MODEL_BODY_LIMIT = 10 * 1024 * 1024;

/** A model call as it came in: validated, attributed, sized. */
export interface Inbound {
  endpoint: Endpoint;
  dialect: Dialect;
  body: Record<string, unknown>;
  bodyBytes: number;
  secret: string;
  tenant: string;
  requested: string;
  stream: boolean;
  /** OpenAI callers get the usage chunk only when they ask for it. */
  clientWantsUsage: boolean;
  attribution: AdmitRequest["attribution"];
  cacheMode: AdmitRequest["cache"]["mode"];
  estimate: AdmitRequest["estimate"];
  anthropicBeta: string | null;
  /**
   * The caller's W3C trace context (an edge agent sends its `chat` span): the parent of the
   * gateway's spans when they are exported (call-spans.ts), else passed on unchanged to the
   * provider, since a parent id of an unexported span would point at nothing.
   */
  trace: TraceContext | null;
}

/** The caller's key: a bearer token, or `x-api-key` as Anthropic clients send it. */
export async function callerKey(
  headers: Headers,
  env: Env,
): Promise<{ secret: string; tenant: string }> {
  const secret =
    bearerToken(headers.get("authorization")) ?? headers.get("x-api-key")?.trim() ?? null;
  if (!secret)
    throw new Failure(
      401,
      "missing_api_key",
      "missing API key: send `Authorization: Bearer <key>` or `x-api-key`",
    );
  const keySecret = configuredKeySecret(env);
  if (!keySecret) throw new Failure(503, "not_initialized", KEY_SECRET_MISSING);
  // A key central did not mint never reaches (or creates) a tenant's Durable Object.
  const parsed = await verifyKey(secret, keySecret);
  if (!parsed)
    throw parseKey(secret)
      ? new Failure(401, "invalid_api_key", "unknown or revoked API key")
      : new Failure(401, "invalid_api_key", "not an Auraison API key");
  return { secret, tenant: parsed.tenant };
}

function header<S extends z.ZodType>(
  headers: Headers,
  name: string,
  schema: S,
): z.output<S> | null {
  // Exactly what the document publishes: an empty or malformed header is refused, not ignored.
  const value = headers.get(name);
  if (value === null) return null;
  const parsed = check(schema, value);
  if (!parsed.ok)
    throw new Failure(400, "invalid_header", `header ${name}: ${parsed.issues[0]!.message}`, {
      param: name,
    });
  return parsed.value;
}

/** Reads, size-checks and validates a model request (errors in the caller's dialect). */
export async function readInbound(
  request: Request,
  endpoint: Endpoint,
  env: Env,
): Promise<Inbound> {
  const spec = ENDPOINTS[endpoint];
  const { secret, tenant } = await callerKey(request.headers, env);
  let body: Record<string, unknown>;
  let size: number;
  try {
    // The type is checked before the body is read: a body of the wrong type is not read at all.
    checkJsonType(request.headers.get("content-type"));
    const read = await readBodyText(request, MODEL_BODY_LIMIT);
    size = read.bytes;
    body = parseJson(read.text, request.headers.get("content-type"), spec.schema) as Record<
      string,
      unknown
    >;
  } catch (error) {
    if (error instanceof Failure) {
      const path = error.issues?.[0]?.path;
      throw new Failure(error.status, error.code, error.message, {
        ...(error.issues ? { issues: error.issues } : {}),
        ...(path ? { param: path } : {}),
      });
    }
    throw error;
  }
  // OpenAI goes on generating a background response after the gateway's part has ended (it
  // answers at once, queued; a stream goes on after its caller hangs up), so the gateway would
  // see neither the output nor its usage: it could relay nothing and bill nothing.
  if (endpoint === "responses" && body.background === true)
    throw new Failure(
      400,
      "unsupported_request",
      "`background: true` is not supported: OpenAI generates a background response after the gateway has answered, where it can be neither relayed nor billed; leave `background` out (stream a long generation instead)",
      { param: "background" },
    );
  const headers = request.headers;
  const shape = AttributionHeaders.shape;
  const tags = header(headers, HEADERS.tags, shape[HEADERS.tags].unwrap())?.split(",") ?? [];
  const intentType = header(headers, HEADERS.intentType, shape[HEADERS.intentType].unwrap());
  const cacheHeader = header(headers, HEADERS.cache, shape[HEADERS.cache].unwrap());
  // An endpoint that generates nothing (embeddings, token counts) reserves no output.
  const output =
    spec.outputField === null
      ? 0
      : spec.outputField === "max_output_tokens"
        ? ((body.max_output_tokens ?? null) as number | null)
        : spec.dialect === "anthropic"
          ? (body.max_tokens as number)
          : largestCap(body.max_completion_tokens, body.max_tokens);
  const streamOptions = body.stream_options as { include_usage?: boolean } | null | undefined;
  return {
    endpoint,
    dialect: spec.dialect,
    body,
    bodyBytes: size,
    secret,
    tenant,
    requested: String(body.model),
    stream: body.stream === true && spec.outputField !== null,
    clientWantsUsage: streamOptions?.include_usage === true,
    attribution: {
      run: header(headers, HEADERS.run, shape[HEADERS.run].unwrap()),
      agent: header(headers, HEADERS.agent, shape[HEADERS.agent].unwrap()),
      app: header(headers, HEADERS.app, shape[HEADERS.app].unwrap()),
      intentType,
      tags,
    },
    cacheMode: cacheHeader ?? "default",
    estimate: {
      ...inputTokenBound(size, body, documentBoundOf(headers.get("anthropic-beta"))),
      outputTokens: output,
      // Only chat completions have `n`; the schema bounds it.
      choices: typeof body.n === "number" ? body.n : 1,
    },
    anthropicBeta: headers.get("anthropic-beta"),
    trace: traceContextOf(headers),
  };
}

/**
 * The output a chat completion may produce: both fields pass to the provider unchanged, and it
 * reads the one its API knows, so the reservation covers the larger (reserving only
 * `max_completion_tokens: 1` beside `max_tokens: 100000` would let one call run past a budget).
 */
function largestCap(...caps: unknown[]): number | null {
  const given = caps.filter((c): c is number => typeof c === "number");
  return given.length > 0 ? Math.max(...given) : null;
}
