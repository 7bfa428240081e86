import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HEADERS } from "../../../contract";
import { type CentralDev, createKey, createKeyRecord } from "../../helpers/central-dev";
import { type FakeUpstream, startFakeUpstream } from "./fake-upstreams";
import {
  gatewayTenant,
  modelCalls,
  post,
  readEvents,
  SECRETS,
  startGatewayDev,
} from "./gateway-dev";

/**
 * Limits, budgets, keys and bad input through the real Worker under wrangler dev: concurrent
 * calls that would overspend a budget, rate limits answered with 429 and the limit, provider
 * keys that never appear in any answer, event or log line, and malformed requests answered
 * with 4xx in the caller's own error format.
 */

let central: CentralDev;
let openai: FakeUpstream;
let anthropic: FakeUpstream;

/** A key sealed at rest through the admin API (never a Worker secret). */
const STORED_KEY = "sk-stored-key-for-the-lab-vllm-0123456789";

beforeAll(async () => {
  [central, openai, anthropic] = await Promise.all([
    startGatewayDev(),
    startFakeUpstream("openai"),
    startFakeUpstream("anthropic"),
  ]);
}, 180_000);

afterAll(async () => {
  await Promise.all([central?.stop(), openai?.close(), anthropic?.close()]);
});

const config = (extra: Record<string, unknown> = {}) => ({
  providers: [
    {
      id: "oa",
      kind: "openai",
      base_url: `${openai.url}/v1`,
      key: { secret: "FAKE_OPENAI_KEY" },
      models: ["gpt-4.1-mini"],
    },
    {
      id: "lab",
      kind: "openai-compatible",
      base_url: `${openai.url}/v1`,
      key: { value: STORED_KEY },
      models: ["llama"],
    },
    {
      id: "an",
      kind: "anthropic",
      base_url: anthropic.url,
      key: { secret: "FAKE_ANTHROPIC_KEY" },
      models: ["claude-x"],
    },
  ],
  aliases: { auto: { candidates: ["oa/gpt-4.1-mini"] }, local: { candidates: ["lab/llama"] } },
  // $2 / $8 per million tokens.
  prices: {
    version: "2026-06",
    models: { "gpt-4.1-mini": { input: 2, output: 8 }, llama: { input: 0, output: 0 } },
  },
  ...extra,
});

const chat = (
  key: string,
  body: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) =>
  post(
    central,
    "/v1/chat/completions",
    key,
    { model: "auto", messages: [{ role: "user", content: "hi" }], ...body },
    headers,
  );

describe("budgets and rate limits over HTTP", () => {
  it("lets concurrent calls spend a budget exactly once: the ones that would overspend get 429 naming the budget", async () => {
    const { admin } = await gatewayTenant(
      central,
      config({ budgets: { tenant: { usd: 0.05, period: "day" } } }),
    );
    openai.setDefault({
      kind: "answer",
      text: "ok",
      delayMs: 300,
      usage: { input: 500, output: 300 },
    });
    // Each call reserves its upper bound: ~600 bytes of input and 4,000 output tokens ≈ $0.0332.
    const body = { max_tokens: 4_000, messages: [{ role: "user", content: "x".repeat(500) }] };
    const responses = await Promise.all(Array.from({ length: 8 }, () => chat(admin, body)));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 429, 429, 429, 429, 429, 429, 429]);
    const first429 = responses.find((r) => r.status === 429)!;
    const refused = (await first429.json()) as {
      error: { type: string; code: string; message: string; limit: Record<string, unknown> };
    };
    expect(refused.error).toMatchObject({
      type: "rate_limit_error",
      code: "budget_exceeded",
      limit: { kind: "budget", scope: "tenant", dimension: "usd", limit: 0.05, period: "day" },
    });
    await Promise.all(responses.filter((r) => r !== first429).map((r) => r.text()));
    const calls = await modelCalls(central, admin, 8);
    const spent = calls.reduce((sum, c) => sum + (c.payload.cost_usd ?? 0), 0);
    expect(spent).toBeCloseTo(500 * 2e-6 + 300 * 8e-6, 10);
    expect(spent).toBeLessThanOrEqual(0.05);
    openai.setDefault({ kind: "answer", text: "Hello from the fake provider." });
  });

  it("answers 429 with the app's limit and Retry-After once its requests per minute are used", async () => {
    const { admin } = await gatewayTenant(
      central,
      config({ limits: { apps: { "lab-notes": { requests_per_minute: 2 } } } }),
    );
    const app = { [HEADERS.app]: "lab-notes" };
    expect((await chat(admin, {}, app)).status).toBe(200);
    expect((await chat(admin, {}, app)).status).toBe(200);
    const third = await chat(admin, {}, app);
    expect(third.status).toBe(429);
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await third.json()).toMatchObject({
      error: {
        code: "rate_limited",
        limit: {
          kind: "rate",
          scope: "app",
          subject: "lab-notes",
          dimension: "requests_per_minute",
          limit: 2,
        },
      },
    });
    expect((await chat(admin, {}, { [HEADERS.app]: "dea" })).status).toBe(200);
  });
});

describe("provider keys", () => {
  it("never appear in an answer, an event, the config, the status, the audit log or a log line", async () => {
    const { admin } = await gatewayTenant(central, config());
    const texts: string[] = [];
    const keep = async (response: Response) => {
      texts.push(JSON.stringify([...response.headers]), await response.text());
    };
    await keep(await chat(admin, { model: "local" }));
    await keep(await chat(admin, { model: "local", stream: true }));
    await keep(
      await post(central, "/v1/messages", admin, {
        model: "an/claude-x",
        max_tokens: 9,
        messages: [{ role: "user", content: "hi" }],
      }),
    );
    // A provider that echoes the credential it was sent in its error message.
    openai.script({
      kind: "status",
      status: 401,
      message: `Incorrect API key provided: ${STORED_KEY}`,
    });
    await keep(await chat(admin, { model: "local" }));
    openai.script({
      kind: "status",
      status: 400,
      message: `bad request for key ${SECRETS.FAKE_OPENAI_KEY}`,
    });
    await keep(await chat(admin));
    expect(openai.calls.some((c) => c.headers.authorization === `Bearer ${STORED_KEY}`)).toBe(true);
    for (const path of [
      "/v1/gateway/config",
      "/v1/gateway/status",
      "/v1/audit?limit=500",
      "/v1/events?limit=1000",
    ])
      await keep(
        await fetch(`${central.url}${path}`, { headers: { authorization: `Bearer ${admin}` } }),
      );
    const viewed = JSON.parse(texts.at(-7)!) as { providers: { id: string; key?: unknown }[] };
    expect(viewed.providers.map((p) => p.key)).toEqual([
      { secret: "FAKE_OPENAI_KEY" },
      { stored: true, set_at: expect.any(String) },
      { secret: "FAKE_ANTHROPIC_KEY" },
    ]);
    const everything = [...texts, central.output()].join("\n");
    for (const secret of [
      STORED_KEY,
      SECRETS.FAKE_OPENAI_KEY,
      SECRETS.FAKE_ANTHROPIC_KEY,
      SECRETS.AURAISON_GATEWAY_KEK,
    ])
      expect(everything.includes(secret), `a secret leaked: ${secret.slice(0, 12)}…`).toBe(false);
    // Re-applying the config with `{ stored: true }` keeps the sealed key working.
    const again = config();
    (again.providers[1] as { key: unknown }).key = { stored: true };
    await fetch(`${central.url}/v1/gateway/config`, {
      method: "PUT",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify(again),
    });
    expect((await chat(admin, { model: "local" })).status).toBe(200);
    expect(openai.calls.at(-1)!.headers.authorization).toBe(`Bearer ${STORED_KEY}`);
    // A stored key stays with the base URL it was given for: re-pointed elsewhere (here another
    // port, then another path on the same host, as another account on a shared gateway host
    // would be), it is not carried along; the same URL with a trailing slash keeps it.
    const put = (body: unknown) =>
      fetch(`${central.url}/v1/gateway/config`, {
        method: "PUT",
        headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const moved = config();
    Object.assign(moved.providers[1]!, { base_url: `${anthropic.url}/v1`, key: { stored: true } });
    const refused = await put(moved);
    const error = ((await refused.json()) as { error: { issues: unknown[] } }).error;
    expect(refused.status).toBe(422);
    expect(error.issues).toMatchObject([
      {
        path: "providers[1].key",
        message: `the key stored for provider lab was given for openai-compatible at ${openai.url}/v1, not openai-compatible at ${anthropic.url}/v1; send { "value": "..." } to use a key there`,
      },
    ]);
    const otherPath = config();
    Object.assign(otherPath.providers[1]!, {
      base_url: `${openai.url}/other-account/v1`,
      key: { stored: true },
    });
    const elsewhere = await put(otherPath);
    expect(elsewhere.status, await elsewhere.text()).toBe(422);
    const samePlace = config();
    Object.assign(samePlace.providers[1]!, {
      base_url: `${openai.url}/v1/`,
      key: { stored: true },
    });
    const kept = await put(samePlace);
    expect(kept.status, await kept.text()).toBe(200);
    expect((await chat(admin, { model: "local" })).status).toBe(200);
    expect(openai.calls.at(-1)!.headers.authorization).toBe(`Bearer ${STORED_KEY}`);
  });
});

describe("provider kinds", () => {
  it("calls Cloudflare AI Gateway as an upstream: its URL layout, the provider key and the gateway token", async () => {
    const token = "cf-aig-token-0123456789abcdef";
    const { admin } = await gatewayTenant(central, {
      providers: [
        {
          id: "aig-openai",
          kind: "ai-gateway",
          base_url: `${openai.url}/v1`,
          account_id: "acct123",
          gateway_id: "lab-gw",
          upstream: "openai",
          key: { secret: "FAKE_OPENAI_KEY" },
          gateway_token: { value: token },
          models: ["gpt-4.1-mini"],
        },
        {
          id: "aig-anthropic",
          kind: "ai-gateway",
          base_url: anthropic.url,
          account_id: "acct123",
          gateway_id: "lab-gw",
          upstream: "anthropic",
          key: { secret: "FAKE_ANTHROPIC_KEY" },
          models: ["claude-x"],
        },
      ],
    });
    expect((await chat(admin, { model: "aig-openai/gpt-4.1-mini", max_tokens: 10 })).status).toBe(
      200,
    );
    expect(openai.calls.at(-1)).toMatchObject({
      path: "/v1/acct123/lab-gw/openai/chat/completions",
      headers: {
        authorization: `Bearer ${SECRETS.FAKE_OPENAI_KEY}`,
        "cf-aig-authorization": `Bearer ${token}`,
      },
      body: { model: "gpt-4.1-mini", max_tokens: 10 },
    });
    expect((await chat(admin, { model: "aig-anthropic/claude-x" })).status).toBe(200);
    expect(anthropic.calls.at(-1)).toMatchObject({
      path: "/acct123/lab-gw/anthropic/v1/messages",
      headers: { "x-api-key": SECRETS.FAKE_ANTHROPIC_KEY, "anthropic-version": "2023-06-01" },
      body: { model: "claude-x", max_tokens: 4096 },
    });
    expect(anthropic.calls.at(-1)!.headers).not.toHaveProperty("cf-aig-authorization");
  });

  it("falls back from a Workers AI provider whose binding cannot answer (local dev has no Cloudflare account)", async () => {
    const { admin } = await gatewayTenant(central, {
      providers: [
        { id: "wai", kind: "workers-ai", models: ["@cf/meta/llama-3.1-8b-instruct"] },
        {
          id: "oa",
          kind: "openai",
          base_url: `${openai.url}/v1`,
          key: { secret: "FAKE_OPENAI_KEY" },
          models: ["gpt-4.1-mini"],
        },
      ],
      aliases: { auto: { candidates: ["wai/@cf/meta/llama-3.1-8b-instruct", "oa/gpt-4.1-mini"] } },
    });
    // Under `wrangler dev --local` the binding exists but cannot answer: the call falls back.
    const response = await chat(admin);
    expect(response.status).toBe(200);
    expect(response.headers.get(HEADERS.provider)).toBe("oa");
    const [call] = (await modelCalls(central, admin, 1)).slice(-1);
    expect(call!.payload.attempts.map((a) => `${a.provider}:${a.error_type ?? "ok"}`)).toEqual([
      "wai:502",
      "wai:502",
      "wai:502",
      "oa:ok",
    ]);
  });
});

describe("bad requests", () => {
  it("answers 4xx in the caller's own error format, naming the field", async () => {
    const { admin, tenant } = await gatewayTenant(central, config());
    const openaiError = async (response: Response, status: number) => {
      expect(response.status).toBe(status);
      return (
        (await response.json()) as {
          error: { message: string; type: string; code: string; param: string | null };
        }
      ).error;
    };
    expect(
      await openaiError(
        await post(central, "/v1/chat/completions", admin, {
          messages: [{ role: "user", content: "hi" }],
        }),
        400,
      ),
    ).toMatchObject({
      type: "invalid_request_error",
      param: "model",
    });
    const wrong = await openaiError(
      await post(central, "/v1/chat/completions", admin, { model: "auto", messages: "hi" }),
      400,
    );
    expect(wrong).toMatchObject({ param: "messages" });
    expect(wrong.message).toMatch(/^invalid request body at messages: /);
    expect(
      await openaiError(
        await post(central, "/v1/chat/completions", admin, {
          model: "auto",
          messages: [{ role: "wizard", content: "x" }],
        }),
        400,
      ),
    ).toMatchObject({
      param: "messages[0].role",
    });
    const huge = await fetch(`${central.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "auto",
        messages: [{ role: "user", content: "x".repeat(11 * 1024 * 1024) }],
      }),
    });
    expect(await openaiError(huge, 413)).toMatchObject({ code: "payload_too_large" });
    const notJson = await fetch(`${central.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "text/plain" },
      body: "hello",
    });
    expect(await openaiError(notJson, 415)).toMatchObject({ code: "unsupported_media_type" });
    const broken = await fetch(`${central.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: '{"model": "auto", "messages": [',
    });
    expect(await openaiError(broken, 400)).toMatchObject({ code: "malformed_json" });
    expect(await openaiError(await chat(admin, { model: "gpt-9" }), 404)).toMatchObject({
      code: "model_not_found",
      type: "not_found_error",
    });
    // Names of Object.prototype's members are models no tenant declared, like any other name
    // (schemathesis once sent `__proto__` to /v1/responses and got 500).
    for (const model of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      expect(await openaiError(await chat(admin, { model }), 404)).toMatchObject({
        code: "model_not_found",
      });
      const responses = await post(central, "/v1/responses", admin, { model, input: "hi" });
      expect(await openaiError(responses, 404)).toMatchObject({ code: "model_not_found" });
    }
    expect(
      await openaiError(await chat(admin, {}, { [HEADERS.tags]: "Not A Tag!" }), 400),
    ).toMatchObject({ code: "invalid_header" });
    expect(await openaiError(await fetch(`${central.url}/v1/chat/completions`), 405)).toMatchObject(
      { code: "method_not_allowed" },
    );
    const noKey = await fetch(`${central.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(await openaiError(noKey, 401)).toMatchObject({
      type: "authentication_error",
      code: "missing_api_key",
    });
    const viewer = await createKey(central.url, admin, "viewer", "looker");
    expect(await openaiError(await chat(viewer), 403)).toMatchObject({ type: "permission_error" });
    const forged = `aur_op_${tenant}_${"A".repeat(43)}`;
    expect(await openaiError(await chat(forged), 401)).toMatchObject({ code: "invalid_api_key" });
    // Anthropic's endpoint answers in Anthropic's format, and requires max_tokens as Anthropic does.
    const noMax = await post(central, "/v1/messages", admin, {
      model: "auto",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(noMax.status).toBe(400);
    expect(await noMax.json()).toMatchObject({
      type: "error",
      error: {
        type: "invalid_request_error",
        code: "invalid_request",
        issues: [{ path: "max_tokens" }],
      },
    });
    const anthropicKeyHeader = await fetch(`${central.url}/v1/messages`, {
      method: "POST",
      headers: {
        "x-api-key": admin,
        "anthropic-version": "2023-06-01",
        "content-type": "application/json",
      },
      body: JSON.stringify({
        model: "auto",
        max_tokens: 9,
        messages: [{ role: "user", content: "hi" }],
      }),
    });
    expect(anthropicKeyHeader.status).toBe(200);
    expect(((await anthropicKeyHeader.json()) as { type: string }).type).toBe("message");
    // A request one provider's dialect cannot express is refused only if no candidate can take it.
    const audio = await post(central, "/v1/chat/completions", admin, {
      model: "an/claude-x",
      messages: [
        {
          role: "user",
          content: [{ type: "input_audio", input_audio: { data: "", format: "wav" } }],
        },
      ],
    });
    expect(await openaiError(audio, 400)).toMatchObject({
      code: "unsupported_request",
      param: "messages[0].content[0]",
    });
  });

  it("lists the tenant's aliases and models in OpenAI's and Anthropic's formats", async () => {
    const { admin } = await gatewayTenant(central, config());
    const agent = await createKeyRecord(central.url, admin, "agent", "lister");
    const list = (await (
      await fetch(`${central.url}/v1/models`, { headers: { authorization: `Bearer ${agent.key}` } })
    ).json()) as {
      object: string;
      data: { id: string; owned_by: string }[];
    };
    expect(list.object).toBe("list");
    expect(list.data.map((m) => [m.id, m.owned_by])).toEqual([
      ["auto", "auraison"],
      ["local", "auraison"],
      ["oa/gpt-4.1-mini", "oa"],
      ["lab/llama", "lab"],
      ["an/claude-x", "an"],
    ]);
    const anthropicList = (await (
      await fetch(`${central.url}/v1/models`, {
        headers: { "x-api-key": agent.key, "anthropic-version": "2023-06-01" },
      })
    ).json()) as { data: { type: string; id: string }[]; has_more: boolean };
    expect(anthropicList).toMatchObject({
      has_more: false,
      data: expect.arrayContaining([
        expect.objectContaining({
          type: "model",
          id: "auto",
          display_name: "auto",
          created_at: expect.any(String),
          max_input_tokens: null,
        }),
      ]),
    });
    const events = await readEvents(await chat(agent.key, { stream: true }));
    expect(events.at(-1)!.data).toBe("[DONE]");
  });
});
