import { afterEach, describe, expect, it, vi } from "vitest";
import { type GatewayStatus, HEADERS } from "../../../../contract";
import { call, json, newKey, newTenant } from "../../support";
import {
  chat,
  chatCompletion,
  labGateway,
  modelCalls,
  sse,
  upstreamAnswers,
  within,
} from "./worker-calls";

/**
 * Upstream answers of the wrong shape, through the real Worker and tenant object (workerd): a
 * JSON answer whose choice is null, and a stream with such a chunk after its first token. Each
 * call is answered in the caller's dialect, settled once (its reservation freed, its usage
 * charged) and logged as a `model_call` with `error_type: bad_response`.
 */

const UPSTREAM = "http://lab.test:8000/v1";

afterEach(() => {
  vi.restoreAllMocks();
});

const configure = (admin: string, extra: Record<string, unknown> = {}) =>
  labGateway(admin, UPSTREAM, {
    budgets: { tenant: { tokens: 10_000_000, period: "month" } },
    ...extra,
  });

/** Everything the client's stream delivered, and whether it broke instead of ending. */
async function readAll(body: ReadableStream<Uint8Array> | null) {
  let text = "";
  let broke: unknown = null;
  const decoder = new TextDecoder();
  const reader = body!.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch (error) {
    broke = error;
  }
  return { text, broke };
}

async function tenantBudget(admin: string) {
  return (await json<GatewayStatus>(await call("GET", "/v1/gateway/status", { key: admin }), 200))
    .budgets[0]!;
}

describe("malformed upstream answers", () => {
  it("answers a malformed JSON answer with a 502 bad_response and settles the call with its usage", async () => {
    const { admin } = await newTenant("malformed");
    await configure(admin);
    const operator = (await newKey(admin, "operator")).key;
    const upstream = upstreamAnswers(UPSTREAM, () =>
      Response.json({
        id: "c",
        model: "m",
        choices: [null],
        usage: { prompt_tokens: 5000, completion_tokens: 5000 },
      }),
    );
    const { response, settled } = await chat(operator, "/v1/chat/completions", {
      model: "auto",
      max_tokens: 100,
      messages: [{ role: "user", content: "hello" }],
    });
    const text = await response.text();
    expect(response.status, text).toBe(502);
    const body = JSON.parse(text) as { error: { code: string; message: string; type: string } };
    expect(body.error.code).toBe("bad_response");
    expect(body.error.message).toContain("lab/m");
    expect(response.headers.get(HEADERS.callId)).toBeTruthy();
    await within(settled(), 15_000, "the call's settlement");
    // No fallback or retry: the provider had generated (and billed) the whole answer.
    expect(upstream).toHaveBeenCalledTimes(1);

    const budget = await tenantBudget(admin);
    expect(budget.tokens_reserved).toBe(0);
    expect(budget.tokens_used).toBe(10_000);
    expect(budget.usd_used).toBeCloseTo(0.015, 6); // 5,000 × $1/M + 5,000 × $2/M
    const logged = await modelCalls(admin);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      provider: "lab",
      error_type: "bad_response",
      input_tokens: 5000,
      output_tokens: 5000,
      usage_estimated: false,
      response_id: "c",
    });
    expect(logged[0]!.attempts).toEqual([
      expect.objectContaining({ provider: "lab", outcome: "error", error_type: "bad_response" }),
    ]);
  });

  it("charges an estimate for a malformed answer that reports no usage, in the Anthropic dialect", async () => {
    const { admin } = await newTenant("malformed");
    await configure(admin);
    const operator = (await newKey(admin, "operator")).key;
    upstreamAnswers(UPSTREAM, () => Response.json({ id: "c", model: "m", choices: [null] }));
    const { response, settled } = await chat(operator, "/v1/messages", {
      model: "auto",
      max_tokens: 100,
      messages: [{ role: "user", content: "hello" }],
    });
    const text = await response.text();
    expect(response.status, text).toBe(502);
    expect(JSON.parse(text)).toMatchObject({
      type: "error",
      error: { type: "api_error", code: "bad_response" },
    });
    await within(settled(), 15_000, "the call's settlement");
    const budget = await tenantBudget(admin);
    expect(budget.tokens_reserved).toBe(0);
    expect(budget.tokens_used).toBeGreaterThan(0);
    const logged = await modelCalls(admin);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ error_type: "bad_response", usage_estimated: true });
    expect(budget.tokens_used).toBe(
      (logged[0]!.input_tokens as number) + (logged[0]!.output_tokens as number),
    );
  });

  it("ends a stream with an error event after a malformed chunk mid-answer and settles the call", async () => {
    const { admin } = await newTenant("malformed");
    await configure(admin);
    const operator = (await newKey(admin, "operator")).key;
    const chunk = (delta: unknown, finish: string | null = null) => ({
      id: "c",
      model: "m",
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
    upstreamAnswers(UPSTREAM, () =>
      sse([
        chunk({ role: "assistant", content: "hello" }),
        { id: "c", model: "m", choices: [null] },
        chunk({}, "stop"),
        {
          id: "c",
          model: "m",
          choices: [],
          usage: { prompt_tokens: 5000, completion_tokens: 5000 },
        },
        "[DONE]",
      ]),
    );
    const { response, settled } = await chat(operator, "/v1/chat/completions", {
      model: "auto",
      max_tokens: 100,
      stream: true,
      messages: [{ role: "user", content: "hello" }],
    });
    expect(response.status).toBe(200);
    const { text, broke } = await within(readAll(response.body), 15_000, "the client's stream");
    expect(broke).toBeNull();
    const events = text
      .split("\n\n")
      .filter((e) => e.startsWith("data: "))
      .map((e) => e.slice("data: ".length));
    expect(events).toHaveLength(2);
    expect(JSON.parse(events[0]!).choices[0].delta.content).toBe("hello");
    // The malformed chunk is not relayed: an error event in OpenAI's dialect ends the stream.
    expect(JSON.parse(events[1]!)).toMatchObject({
      error: { type: "server_error", code: "bad_response" },
    });
    expect(text).not.toContain("[DONE]");
    await within(settled(), 15_000, "the call's settlement");

    const budget = await tenantBudget(admin);
    expect(budget.tokens_reserved).toBe(0);
    const logged = await modelCalls(admin);
    expect(logged).toHaveLength(1);
    // The usage chunk after the break was never read: what was relayed is estimated.
    expect(logged[0]).toMatchObject({
      provider: "lab",
      stream: true,
      error_type: "bad_response",
      usage_estimated: true,
    });
    expect(logged[0]!.output_tokens).toBeGreaterThan(0);
    expect(budget.tokens_used).toBe(
      (logged[0]!.input_tokens as number) + (logged[0]!.output_tokens as number),
    );
  });

  it("translates nothing of a malformed chunk for an Anthropic caller: an error event ends its stream", async () => {
    const { admin } = await newTenant("malformed");
    await configure(admin);
    const operator = (await newKey(admin, "operator")).key;
    upstreamAnswers(UPSTREAM, () =>
      sse([
        {
          id: "c",
          model: "m",
          choices: [{ index: 0, delta: { content: "hello" }, finish_reason: null }],
        },
        {
          id: "c",
          model: "m",
          choices: [{ index: 0, delta: { tool_calls: [null] }, finish_reason: null }],
        },
        "[DONE]",
      ]),
    );
    const { response, settled } = await chat(operator, "/v1/messages", {
      model: "auto",
      max_tokens: 100,
      stream: true,
      messages: [{ role: "user", content: "hello" }],
    });
    expect(response.status).toBe(200);
    const { text, broke } = await within(readAll(response.body), 15_000, "the client's stream");
    expect(broke).toBeNull();
    expect(text).toContain('"text":"hello"');
    expect(text.trimEnd()).toMatch(/event: error\ndata: .*"code":"bad_response".*$/);
    expect(text).not.toContain("message_stop");
    await within(settled(), 15_000, "the call's settlement");
    expect((await tenantBudget(admin)).tokens_reserved).toBe(0);
    const logged = await modelCalls(admin);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ error_type: "bad_response", stream: true });
  });

  it("falls back when a stream's first chunk is malformed, before anything reached the client", async () => {
    const { admin } = await newTenant("malformed");
    await configure(admin, {
      providers: [
        { id: "lab", kind: "openai-compatible", base_url: UPSTREAM, models: ["m"] },
        { id: "backup", kind: "scripted", models: ["m"], script: [{ answer: "from the backup" }] },
      ],
      aliases: { auto: { candidates: ["lab/m", "backup/m"] } },
    });
    const operator = (await newKey(admin, "operator")).key;
    upstreamAnswers(UPSTREAM, () => sse([{ id: "c", model: "m", choices: [null] }, "[DONE]"]));
    const { response, settled } = await chat(operator, "/v1/chat/completions", {
      model: "auto",
      max_tokens: 100,
      stream: true,
      messages: [{ role: "user", content: "hello" }],
    });
    const text = await response.text();
    expect(response.status, text).toBe(200);
    expect(response.headers.get(HEADERS.provider)).toBe("backup");
    expect(text).toContain("from the backup");
    expect(text).not.toContain("[null]");
    await within(settled(), 15_000, "the call's settlement");
    expect((await tenantBudget(admin)).tokens_reserved).toBe(0);
    const logged = await modelCalls(admin);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ provider: "backup", error_type: null });
    const attempts = logged[0]!.attempts as { provider: string; error_type: string | null }[];
    expect(attempts.at(0)).toMatchObject({ provider: "lab", error_type: "stream_error" });
    expect(attempts.at(-1)).toMatchObject({ provider: "backup", error_type: null });
  });
});

describe("an upstream's redirect", () => {
  it("is not followed: the provider's key never reaches where it points, and the call fails settled", async () => {
    const { admin } = await newTenant("redirect");
    await configure(admin, {
      providers: [
        {
          id: "lab",
          kind: "openai-compatible",
          base_url: UPSTREAM,
          models: ["m"],
          headers: { "x-lab-key": "lab-header-key-0123456789" },
        },
      ],
    });
    const operator = (await newKey(admin, "operator")).key;
    const elsewhere: Record<string, string>[] = [];
    const real = globalThis.fetch;
    // A fetch that follows redirects unless told not to, as fetch does.
    vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (!url.startsWith(UPSTREAM)) return real(input, init);
      if (init?.redirect === "manual")
        return Promise.resolve(
          new Response("moved", { status: 302, headers: { location: "http://elsewhere.test/" } }),
        );
      elsewhere.push(Object.fromEntries(new Headers(init?.headers).entries()));
      return Promise.resolve(chatCompletion());
    });
    const { response, settled } = await chat(operator, "/v1/chat/completions", {
      model: "auto",
      max_tokens: 100,
      messages: [{ role: "user", content: "hello" }],
    });
    const text = await response.text();
    expect(response.status, text).toBeGreaterThanOrEqual(500);
    expect(elsewhere).toEqual([]);
    await within(settled(), 15_000, "the call's settlement");
    expect((await tenantBudget(admin)).tokens_reserved).toBe(0);
  });
});

/**
 * An answer with no end: `megabytes` 1 MiB chunks of JSON-ish text (forever when null), counting
 * what the gateway pulled and whether it cancelled the rest.
 */
function endless(status: number, seen: { pulled: number; cancelled: boolean }) {
  const chunk = new TextEncoder().encode(`${'{"pad":"'.padEnd(1024 * 1024 - 2, "x")}",`);
  return () =>
    new Response(
      new ReadableStream<Uint8Array>({
        pull(controller) {
          seen.pulled += chunk.byteLength;
          controller.enqueue(chunk);
        },
        cancel() {
          seen.cancelled = true;
        },
      }),
      { status, headers: { "content-type": "application/json" } },
    );
}

/** A chat call the lab provider answers with `endless(status)`: its answer, as the client got it. */
async function callAnsweredEndlessly(status: number, extra: Record<string, unknown> = {}) {
  const { admin } = await newTenant("endless");
  await configure(admin, extra);
  const operator = (await newKey(admin, "operator")).key;
  const seen = { pulled: 0, cancelled: false };
  upstreamAnswers(UPSTREAM, endless(status, seen));
  const { response, settled } = await chat(operator, "/v1/chat/completions", {
    model: "auto",
    max_tokens: 100,
    messages: [{ role: "user", content: "hello" }],
  });
  const text = await within(response.text(), 30_000, "the answer");
  await within(settled(), 15_000, "the call's settlement");
  expect((await tenantBudget(admin)).tokens_reserved).toBe(0);
  return { admin, status: response.status, text, seen };
}

describe("an upstream's answer with no end", () => {
  it("is read to 16 MiB, then cancelled: the provider failed (bad_response), the call settled", async () => {
    const { admin, status, text, seen } = await callAnsweredEndlessly(200, {
      resilience: { max_retries: 0 },
    });
    expect(status, text).toBe(502);
    expect(JSON.parse(text).error).toMatchObject({ code: "upstream_failed" });
    expect(text).toContain("lab/m: the answer was over 16777216 bytes");
    expect(seen.cancelled).toBe(true);
    expect(seen.pulled).toBeLessThan(24 * 1024 * 1024);
    const [logged] = await modelCalls(admin);
    expect(logged!.attempts).toEqual([
      expect.objectContaining({ provider: "lab", outcome: "error", error_type: "bad_response" }),
    ]);
  });

  it("as an error, is read for its first 64 KiB only, and answered with the gateway's error", async () => {
    const { status, text, seen } = await callAnsweredEndlessly(400);
    expect(status, text).toBe(400);
    // Cut, the provider's answer is no JSON: the gateway's own error, in the caller's dialect.
    expect(JSON.parse(text).error).toMatchObject({ code: "upstream_rejected" });
    expect(text.length).toBeLessThanOrEqual(64 * 1024);
    expect(seen.cancelled).toBe(true);
    expect(seen.pulled).toBeLessThan(4 * 1024 * 1024);
  });
});
