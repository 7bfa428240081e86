import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { app } from "../../../../central/app";
import type { StoredEvent } from "../../../../contract";
import { BOOTSTRAP_KEY, call, events, json } from "../../support";

/**
 * Model calls through the real Worker and tenant object (workerd), with the providers' answers
 * faked at `fetch` (no network). A test restores the fake with `vi.restoreAllMocks()`.
 */

const workerEnv = { ...env, AURAISON_BOOTSTRAP_KEY: BOOTSTRAP_KEY };

/** A provider's whole chat completion that answers "hi", with its usage. */
export const chatCompletion = () =>
  Response.json({
    id: "c",
    object: "chat.completion",
    model: "m",
    choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
    usage: { prompt_tokens: 1, completion_tokens: 1 },
  });

/** Every request to a URL under `base` is answered with `answer(url)`. */
export function upstreamAnswers(
  base: string,
  answer: (url: string) => Response | Promise<Response>,
) {
  const real = globalThis.fetch;
  return vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    return url.startsWith(base) ? Promise.resolve(answer(url)) : real(input, init);
  });
}

/**
 * Sets the tenant's gateway to one OpenAI-compatible provider `lab` at `upstream` serving model
 * `m` as `auto`, at $1 and $2 per million input and output tokens; `extra` adds or replaces.
 */
export async function labGateway(
  admin: string,
  upstream: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await json(
    await call("PUT", "/v1/gateway/config", {
      key: admin,
      body: {
        providers: [{ id: "lab", kind: "openai-compatible", base_url: upstream, models: ["m"] }],
        aliases: { auto: { candidates: ["lab/m"] } },
        prices: { version: "p1", models: { m: { input: 1, output: 2 } } },
        ...extra,
      },
    }),
    200,
  );
}

/** An SSE answer of these events (`data:` lines; a string goes as it is, as `[DONE]` does). */
export const sse = (chunks: unknown[]) =>
  new Response(
    chunks.map((c) => `data: ${typeof c === "string" ? c : JSON.stringify(c)}\n\n`).join(""),
    { headers: { "content-type": "text/event-stream" } },
  );

/**
 * A model call through the Worker: the request as sent, its answer, and `settled`, which waits
 * for its `waitUntil` (settlement, lease close).
 */
export async function chat(
  key: string,
  path: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  const ctx = createExecutionContext();
  const request = new Request(`http://central${path}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${key}`,
      "content-type": "application/json",
      ...(path === "/v1/messages" ? { "anthropic-version": "2023-06-01" } : {}),
      ...headers,
    },
    body: JSON.stringify(body),
  });
  const response = await app.fetch(request, workerEnv, ctx);
  return { request, response, settled: () => waitOnExecutionContext(ctx) };
}

/** Fails instead of hanging the test when a call's settlement never comes. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms),
    ),
  ]);
}

/** The tenant's `model_call` events' payloads, oldest first. */
export async function modelCalls(admin: string) {
  return (await events(admin, "&kind=model_call")).events.map(
    (e: StoredEvent) => e.payload as Record<string, unknown>,
  );
}
