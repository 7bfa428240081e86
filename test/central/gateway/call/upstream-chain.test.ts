import { afterEach, describe, expect, it, vi } from "vitest";
import { HEADERS } from "../../../../contract";
import { advanceClock, call, json, newKey, newTenant } from "../../support";
import { chat, chatCompletion, upstreamAnswers, within } from "./worker-calls";

/**
 * What a provider's answers tell of its health, through the real Worker and tenant object
 * (workerd): a refusal that is the request's own fault (a 400) tells nothing.
 */

const PROVIDERS = "http://lab.test";

afterEach(() => {
  vi.restoreAllMocks();
});

/** Provider `a` answers with `statuses` in turn (200 once they run out); `b` always with 200. */
function upstreams(statuses: number[]) {
  upstreamAnswers(PROVIDERS, (url) => {
    const status = url.startsWith(`${PROVIDERS}/a/`) ? (statuses.shift() ?? 200) : 200;
    return status === 200
      ? chatCompletion()
      : Response.json(
          { error: { message: "bad request", type: "invalid_request_error" } },
          { status },
        );
  });
}

/** A tenant whose alias `auto` tries `a`, then `b`: its name, and an operator key. */
async function configured(resilience: Record<string, number> = {}) {
  const { tenant, admin } = await newTenant("health");
  await json(
    await call("PUT", "/v1/gateway/config", {
      key: admin,
      body: {
        providers: ["a", "b"].map((id) => ({
          id,
          kind: "openai-compatible",
          base_url: `${PROVIDERS}/${id}/v1`,
          models: ["m"],
        })),
        aliases: { auto: { candidates: ["a/m", "b/m"], strategy: "ordered" } },
        resilience,
      },
    }),
    200,
  );
  return { tenant, key: (await newKey(admin, "operator")).key };
}

/**
 * A call, settled, and which provider answered it. It names a document, so the tenant object
 * admits and routes it: no lease (whose route is fixed when it is granted) covers a call with a
 * document (handle-call.ts, `leasable`).
 */
async function ask(key: string) {
  const { response, settled } = await chat(key, "/v1/chat/completions", {
    model: "auto",
    max_tokens: 10,
    messages: [
      {
        role: "user",
        content: [
          { type: "text", text: "summarise this" },
          { type: "file", file: { file_id: "file-1" } },
        ],
      },
    ],
  });
  await response.text();
  await within(settled(), 15_000, "the call's settlement");
  return { status: response.status, provider: response.headers.get(HEADERS.provider) };
}

describe("a provider's refusal of the request itself", () => {
  it("does not raise the provider's error rate: it keeps its place before the next candidate", async () => {
    const { key } = await configured();
    upstreams([400, 400, 400, 400]);
    for (let i = 0; i < 4; i++) expect(await ask(key)).toEqual({ status: 400, provider: "a" });
    expect(await ask(key)).toEqual({ status: 200, provider: "a" });
  });

  it("does not reopen a half-open circuit: the next call probes again", async () => {
    const { tenant, key } = await configured({
      breaker_failures: 1,
      breaker_cooldown_ms: 60_000,
      max_retries: 0,
    });
    upstreams([500, 400]);
    // a's 500 opens its circuit; b answers.
    expect(await ask(key)).toEqual({ status: 200, provider: "b" });
    await advanceClock(tenant, 61_000);
    // The probe meets the request's own fault, which says nothing of a.
    expect(await ask(key)).toEqual({ status: 400, provider: "a" });
    expect(await ask(key)).toEqual({ status: 200, provider: "a" });
  });
});
