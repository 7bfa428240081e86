import { z } from "@hono/zod-openapi";
import { CONTRACT_VERSION, Health, PATHS } from "../../contract";
import { openApiJson } from "../api/document";
import { json } from "../api/route";
import { workerRoute } from "./route";

export const healthRoute = workerRoute(
  "public",
  {
    operationId: "health",
    method: "get",
    path: PATHS.health,
    tags: ["system"],
    summary: "Liveness: the Worker answers after reaching a Durable Object",
    responses: { 200: json(Health, "Up") },
  },
  async (c) => {
    // Reaching a Durable Object proves storage and the DO runtime are up, not just the Worker.
    const probe = await c.env.TENANT.getByName("_health").health();
    return c.json({ ok: probe.ok, contract: CONTRACT_VERSION });
  },
);

export const openApiRoute = workerRoute(
  "public",
  {
    operationId: "openapi",
    method: "get",
    path: PATHS.openapi,
    tags: ["system"],
    summary: "This document",
    responses: { 200: json(z.record(z.string(), z.unknown()), "OpenAPI 3.1 document") },
  },
  (c, api) => c.body(openApiJson(api.routes), 200, { "content-type": "application/json" }),
);
