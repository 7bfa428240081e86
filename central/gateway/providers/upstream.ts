import type { ProviderTarget } from "../admission";
import type { Dialect } from "../dialects/errors";
import { keySlot, resolveKey } from "../keys/resolve";
import type { MaxTokensField } from "../translate/requests";
import { scriptedAnswer } from "./scripted";
import { privateUpstreamsAllowed, UpstreamRefused, upstreamUrlProblem } from "./upstream-url";
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
  /** The body in the provider's dialect, its `model` set. */
  body: Record<string, unknown>;
  stream: boolean;
  signal: AbortSignal;
  /** Anthropic beta flags the client asked for, forwarded to Anthropic providers. */
  anthropicBeta: string | null;
}

const AI_GATEWAY_PATHS = {
  openai: "/chat/completions",
  anthropic: "/v1/messages",
  "workers-ai": "/v1/chat/completions",
  compat: "/chat/completions",
} as const;

const trim = (url: string) => url.replace(/\/+$/, "");

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
  const problem = upstreamUrlProblem(provider.base_url, privateUpstreamsAllowed(env));
  if (problem) throw new UpstreamRefused(`base_url ${problem}`);
  const host = new URL(provider.base_url).hostname;
  const key = await resolveKey(provider.key, env, tenant, keySlot(provider.id, "key"), host);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    ...(request.stream ? { accept: "text/event-stream" } : { accept: "application/json" }),
    ...provider.headers,
  };
  const secrets = key ? [key] : [];
  let url: string;
  const dialect = connectionOf(provider).dialect;
  if (provider.kind === "ai-gateway") {
    url = `${trim(provider.base_url)}/${provider.account_id}/${provider.gateway_id}/${provider.upstream}${AI_GATEWAY_PATHS[provider.upstream]}`;
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
  } else if (provider.kind === "anthropic") url = `${trim(provider.base_url)}/v1/messages`;
  else url = `${trim(provider.base_url)}/chat/completions`;
  if (dialect === "anthropic") {
    if (key) headers["x-api-key"] = key;
    headers["anthropic-version"] = provider.kind === "anthropic" ? provider.version : "2023-06-01";
    if (request.anthropicBeta) headers["anthropic-beta"] = request.anthropicBeta;
  } else if (key) headers.authorization = `Bearer ${key}`;
  const response = await fetch(url, {
    method: "POST",
    headers,
    body: JSON.stringify(request.body),
    signal: request.signal,
  });
  return { response, secrets };
}
