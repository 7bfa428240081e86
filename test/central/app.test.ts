import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { app } from "../../central/app";
import { BOOTSTRAP_KEY, call, json, newKey, newTenant } from "./support";

/** The Worker's request lines: one per change or failure, none for reads or answered model calls. */

afterEach(() => {
  vi.restoreAllMocks();
});

async function through(key: string, path: string, init: RequestInit): Promise<number> {
  const ctx = createExecutionContext();
  const response = await app.fetch(
    new Request(`http://central${path}`, {
      ...init,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    }),
    { ...env, AURAISON_BOOTSTRAP_KEY: BOOTSTRAP_KEY },
    ctx,
  );
  await response.text();
  await waitOnExecutionContext(ctx);
  return response.status;
}

function requestLines(spy: { mock: { calls: unknown[][] } }): { path: string; status: number }[] {
  return spy.mock.calls
    .map((args) => JSON.parse(String(args[0])) as { msg: string; path: string; status: number })
    .filter((line) => line.msg === "request")
    .map(({ path, status }) => ({ path, status }));
}

describe("the Worker's request log", () => {
  it("logs a refused model call and a change, not an answered model call or a read", async () => {
    const { admin } = await newTenant("log");
    json(
      await call("PUT", "/v1/gateway/config", {
        key: admin,
        body: {
          providers: [{ id: "one", kind: "scripted", models: ["m"], script: [{ answer: "hi" }] }],
        },
      }),
      200,
    );
    const operator = (await newKey(admin, "operator")).key;
    const chat = (model: string) =>
      through(operator, "/v1/chat/completions", {
        method: "POST",
        body: JSON.stringify({ model, messages: [{ role: "user", content: "hello" }] }),
      });
    const spy = vi.spyOn(console, "log");

    expect(await chat("one/m")).toBe(200);
    expect(await through(admin, "/v1/gateway/status", { method: "GET" })).toBe(200);
    expect(requestLines(spy)).toEqual([]);

    expect(await chat("nowhere/m")).toBe(404);
    expect(await through(admin, "/v1/keys", { method: "POST", body: "{}" })).toBe(400);
    expect(requestLines(spy)).toEqual([
      { path: "/v1/chat/completions", status: 404 },
      { path: "/v1/keys", status: 400 },
    ]);
  });
});
