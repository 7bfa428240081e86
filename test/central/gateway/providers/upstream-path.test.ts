import { describe, expect, it } from "vitest";
import type { ProviderTarget } from "../../../../central/gateway/admission";
import type { Endpoint } from "../../../../central/gateway/call/endpoints";
import { upstreamPath } from "../../../../central/gateway/providers/upstream";

const resilience = {} as ProviderTarget["resilience"];
const provider = (p: Record<string, unknown>) =>
  ({ models: ["m"], headers: {}, resilience, ...p }) as unknown as ProviderTarget;

const openai = provider({ id: "oa", kind: "openai", base_url: "https://api.openai.com/v1" });
const compat = provider({
  id: "lab",
  kind: "openai-compatible",
  base_url: "http://10.0.0.5:8000/v1",
  usage_in_stream: true,
});
const anthropic = provider({
  id: "an",
  kind: "anthropic",
  base_url: "https://api.anthropic.com",
  version: "2023-06-01",
});
const workersAi = provider({ id: "wai", kind: "workers-ai" });
const gateway = (upstream: string) =>
  provider({
    id: `aig-${upstream}`,
    kind: "ai-gateway",
    base_url: "https://gateway.ai.cloudflare.com/v1",
    account_id: "acct",
    gateway_id: "gw",
    upstream,
  });

const ENDPOINTS: Endpoint[] = ["chat", "messages", "responses", "embeddings", "count_tokens"];
const paths = (p: ProviderTarget) =>
  Object.fromEntries(ENDPOINTS.map((endpoint) => [endpoint, upstreamPath(p, endpoint)]));

describe("where each kind of provider takes each endpoint", () => {
  it("sends chat and messages to the provider's own generation path, in its dialect", () => {
    expect(paths(openai)).toEqual({
      chat: "/chat/completions",
      messages: "/chat/completions",
      responses: "/responses",
      embeddings: "/embeddings",
      count_tokens: null,
    });
    expect(paths(compat)).toEqual(paths(openai));
    expect(paths(anthropic)).toEqual({
      chat: "/v1/messages",
      messages: "/v1/messages",
      responses: null,
      embeddings: null,
      count_tokens: "/v1/messages/count_tokens",
    });
  });

  it("keeps Workers AI and AI Gateway's Workers AI and compat routes to generation", () => {
    expect(paths(workersAi)).toEqual({
      chat: "",
      messages: "",
      responses: null,
      embeddings: null,
      count_tokens: null,
    });
    expect(paths(gateway("compat"))).toMatchObject({
      chat: "/acct/gw/compat/chat/completions",
      responses: null,
      embeddings: null,
    });
    expect(paths(gateway("openai"))).toMatchObject({
      chat: "/acct/gw/openai/chat/completions",
      responses: "/acct/gw/openai/responses",
      embeddings: "/acct/gw/openai/embeddings",
      count_tokens: null,
    });
    expect(paths(gateway("anthropic"))).toMatchObject({
      messages: "/acct/gw/anthropic/v1/messages",
      count_tokens: "/acct/gw/anthropic/v1/messages/count_tokens",
      responses: null,
    });
  });
});
