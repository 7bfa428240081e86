import { Hono } from "hono";
import { CONTRACT_VERSION } from "../../contract";

export const health = new Hono<{ Bindings: Env }>().get("/health", async (c) => {
  // Reaching a Durable Object proves storage and the DO runtime are up, not just the Worker.
  const probe = await c.env.TENANT.getByName("_health").health();
  return c.json({ ok: probe.ok, contract: CONTRACT_VERSION });
});
