import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CONTRACT_VERSION } from "../../contract";

describe("central /health", () => {
  it("answers from the Worker after reaching a tenant Durable Object", async () => {
    const response = await exports.default.fetch("http://central/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, contract: CONTRACT_VERSION });
  });
});
