import type { Failure } from "../../../contract";
import { anthropicError, anthropicErrorType } from "./anthropic";
import { openAiError, openAiErrorType } from "./openai";

export type Dialect = "openai" | "anthropic";

/** What a stream's events look like: a dialect's, or OpenAI's Responses events. */
export type Wire = Dialect | "responses";

export function errorBody(dialect: Dialect, failure: Failure): unknown {
  const extra: Record<string, unknown> = {};
  if (failure.detail.limit) extra.limit = failure.detail.limit;
  if (failure.detail.issues?.length) extra.issues = failure.detail.issues;
  if (dialect === "anthropic")
    return anthropicError(failure.message, anthropicErrorType(failure.status), {
      code: failure.code,
      ...extra,
    });
  const body = openAiError(failure.message, openAiErrorType(failure.status), failure.code, extra);
  if (failure.detail.param) body.error.param = failure.detail.param as never;
  return body;
}

export function errorResponse(
  dialect: Dialect,
  failure: Failure,
  headers: Record<string, string> = {},
): Response {
  const out: Record<string, string> = { "content-type": "application/json", ...headers };
  if (failure.detail.retryAfterMs !== undefined)
    out["retry-after"] = String(Math.max(1, Math.ceil(failure.detail.retryAfterMs / 1000)));
  // A spent budget stays spent, and a call larger than a per-minute limit never fits it: the
  // official SDKs honour this header and do not retry such a 429.
  const limit = failure.detail.limit;
  if (limit && (limit.kind === "budget" || limit.requested > limit.limit))
    out["x-should-retry"] = "false";
  return new Response(JSON.stringify(errorBody(dialect, failure)), {
    status: failure.status,
    headers: out,
  });
}
