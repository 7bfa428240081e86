import { type TraceContext, traceHeadersOf } from "../../../contract";
import type { ProviderTarget } from "../admission";
import { ENDPOINTS, type Endpoint } from "../call/endpoints";
import type { Dialect } from "../dialects/errors";
import { keySlot, resolveKey } from "../keys/resolve";
import type { MaxTokensField } from "../translate/requests";
import { scriptedAnswer } from "./scripted";
import { privateUpstreamsAllowed, UpstreamRefused, upstreamUrl } from "./upstream-url";
import { callWorkersAi } from "./workers-ai";

/** How to talk to a provider: its wire dialect and the OpenAI-style quirks it has. */
export interface Connection {
  dialect: Dialect;
  /** Where an OpenAI-style provider takes the output cap. */
  maxTokensField: MaxTokensField;
  /** Whether to ask an OpenAI-style stream for a final usage chunk. */
  usageInStream: boolean;
}

export function connectionOf(provider: ProviderTarget): Connection {
  switch (provider.kind) {
    case "anthropic":
      return { dialect: "anthropic", maxTokensField: "max_tokens", usageInStream: false };
    case "openai":
      return { dialect: "openai", maxTokensField: "max_completion_tokens", usageInStream: true };
    case "openai-compatible":
      return {
        dialect: "openai",
        maxTokensField: "max_tokens",
        usageInStream: provider.usage_in_stream,
      };
    case "workers-ai":
    case "scripted":
      return { dialect: "openai", maxTokensField: "max_tokens", usageInStream: true };
    case "ai-gateway":
      return provider.upstream === "anthropic"
        ? { dialect: "anthropic", maxTokensField: "max_tokens", usageInStream: false }
        : {
            dialect: "openai",
            maxTokensField: provider.upstream === "openai" ? "max_completion_tokens" : "max_tokens",
            usageInStream: true,
          };
  }
}

export interface UpstreamRequest {
  /** Where, after the provider's base URL (from `upstreamPath`). */
  path: string;
  /** The body in the provider's dialect, its `model` set. */
  body: Record<string, unknown>;
  stream: boolean;
  signal: AbortSignal;
  /** Anthropic beta flags the client asked for, forwarded to Anthropic providers. */
  anthropicBeta: string | null;
  /** The caller's W3C trace context, passed on unchanged (README, Traces). */
  trace: TraceContext | null;
}

const AI_GATEWAY_PATHS = {
  openai: "/chat/completions",
  anthropic: "/v1/messages",
  "workers-ai": "/v1/chat/completions",
  compat: "/chat/completions",
} as const;

const trim = (url: string) => url.replace(/\/+$/, "");

/** Where the endpoints only one dialect serves are, after an OpenAI or Anthropic base. */
const NATIVE_PATHS: Record<Exclude<Endpoint, "chat" | "messages">, string> = {
  responses: "/responses",
  embeddings: "/embeddings",
  count_tokens: "/v1/messages/count_tokens",
};

/**
 * The path a provider takes an endpoint's calls at, after its base URL; null when it cannot
 * take them (an endpoint of the other dialect, or one Workers AI and the compat routes lack).
 * Chat completions and messages go to whichever of the two the provider speaks.
 */
export function upstreamPath(provider: ProviderTarget, endpoint: Endpoint): string | null {
  const native = ENDPOINTS[endpoint].native;
  if (native !== null && native !== connectionOf(provider).dialect) return null;
  const path = endpoint === "chat" || endpoint === "messages" ? null : NATIVE_PATHS[endpoint];
  switch (provider.kind) {
    case "workers-ai":
      return path === null ? "" : null;
    case "ai-gateway": {
      const at = `/${provider.account_id}/${provider.gateway_id}/${provider.upstream}`;
      if (path === null) return `${at}${AI_GATEWAY_PATHS[provider.upstream]}`;
      return provider.upstream === "openai" || provider.upstream === "anthropic"
        ? `${at}${path}`
        : null;
    }
    case "anthropic":
      return path ?? "/v1/messages";
    default:
      return path ?? "/chat/completions";
  }
}

/**
 * Sends one attempt to a provider and returns its raw answer, in the provider's dialect, with
 * the credentials it used (so nothing the provider echoes back can carry them further). The URL
 * and keys are checked and resolved here, at call time, and keys go only into the outgoing
 * request's headers, to the host their offer names.
 */
export async function sendUpstream(
  provider: ProviderTarget,
  request: UpstreamRequest,
  env: Env,
  tenant: string,
): Promise<{ response: Response; secrets: string[] }> {
  if (provider.kind === "scripted")
    return { response: scriptedAnswer(provider, request.body, request.stream), secrets: [] };
  if (provider.kind === "workers-ai") {
    if (!env.AI) throw new Error("this Worker has no AI binding");
    return { response: await callWorkersAi(env.AI, request.body, request.signal), secrets: [] };
  }
  const verdict = upstreamUrl(provider.base_url, privateUpstreamsAllowed(env));
  if (verdict.problem !== null) throw new UpstreamRefused(`base_url ${verdict.problem}`);
  const { host } = verdict;
  const key = await resolveKey(provider.key, env, tenant, keySlot(provider.id, "key"), host);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    ...(request.stream ? { accept: "text/event-stream" } : { accept: "application/json" }),
    ...provider.headers,
    ...traceHeadersOf(request.trace),
  };
  const secrets = key ? [key] : [];
  const url = `${trim(provider.base_url)}${request.path}`;
  const dialect = connectionOf(provider).dialect;
  if (provider.kind === "ai-gateway") {
    const token = await resolveKey(
      provider.gateway_token,
      env,
      tenant,
      keySlot(provider.id, "gateway_token"),
      host,
    );
    if (token) {
      headers["cf-aig-authorization"] = `Bearer ${token}`;
      secrets.push(token);
    }
  }
  if (dialect === "anthropic") {
    if (key) headers["x-api-key"] = key;
    headers["anthropic-version"] = provider.kind === "anthropic" ? provider.version : "2023-06-01";
    if (request.anthropicBeta) headers["anthropic-beta"] = request.anthropicBeta;
  } else if (key && provider.kind === "openai-compatible" && provider.key_header === "api-key")
    headers["api-key"] = key;
  else if (key) headers.authorization = `Bearer ${key}`;
  const response = await fetch(url, {
    method: "POST",
    headers,
    body: JSON.stringify(request.body),
    signal: request.signal,
    // A redirect is an answer, not followed: following it would carry the key headers (fetch
    // drops only `authorization`) to a host no offer names, past the base_url check above.
    redirect: "manual",
  });
  return { response, secrets };
}
