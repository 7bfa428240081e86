import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { readInbound } from "../../../../central/gateway/call/inbound";
import { BOOTSTRAP_KEY, newKey, newTenant } from "../../support";

const workerEnv = { ...env, AURAISON_BOOTSTRAP_KEY: BOOTSTRAP_KEY };

async function outputReserved(body: Record<string, unknown>): Promise<number | null> {
  const { admin } = await newTenant("inb");
  const key = (await newKey(admin, "operator")).key;
  const request = new Request("http://central/v1/chat/completions", {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "hi" }], ...body }),
  });
  return (await readInbound(request, "chat", workerEnv)).estimate.outputTokens;
}

describe("a chat completion's output reservation", () => {
  it("covers the larger of max_completion_tokens and max_tokens, whichever the provider reads", async () => {
    expect(await outputReserved({ max_completion_tokens: 1, max_tokens: 100_000 })).toBe(100_000);
    expect(await outputReserved({ max_completion_tokens: 500, max_tokens: 20 })).toBe(500);
    expect(await outputReserved({ max_tokens: 64 })).toBe(64);
    expect(await outputReserved({})).toBeNull();
  });
});
