import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, gatewayLimits } from "../../../edge/models/gateway-limits";
import { closedPort } from "../helpers/openai-upstream";

/** A stand-in for central's `GET /v1/models`, answering as the gateway does. */
let url: string;
let server: ReturnType<typeof serve>;
const seen: string[] = [];

beforeAll(async () => {
  const app = new Hono();
  app.get("/v1/models", (c) => {
    seen.push(c.req.header("authorization") ?? "");
    const model = (id: string, window: number | null, output: number | null) => ({
      id,
      object: "model",
      created: 0,
      owned_by: "auraison",
      context_window: window,
      max_output_tokens: output,
    });
    return c.json({
      object: "list",
      data: [model("auto", 200_000, 64_000), model("cheap", null, null)],
    });
  });
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("the gateway's model limits, as an edge run sizes its context", () => {
  it("takes the context window and output limit central reports for the alias", async () => {
    expect(await gatewayLimits({ url, key: "aur_agent_k" }, "auto")).toEqual({
      contextWindow: 200_000,
      maxTokens: 64_000,
    });
    expect(seen.at(-1)).toBe("Bearer aur_agent_k");
  });

  it("keeps the defaults for a model central has no limits for, or when central cannot be asked", async () => {
    expect(await gatewayLimits({ url, key: "k" }, "cheap")).toEqual(DEFAULT_LIMITS);
    expect(await gatewayLimits({ url, key: "k" }, "unknown")).toEqual(DEFAULT_LIMITS);
    const down = `http://127.0.0.1:${await closedPort()}`;
    expect(await gatewayLimits({ url: down, key: "k" }, "auto")).toEqual(DEFAULT_LIMITS);
  });
});
