import { OpenAPIHono } from "@hono/zod-openapi";
import { CONTRACT_VERSION, openApiComponents } from "../../contract";
import type { RouteSpec } from "./route";

const cache = new WeakMap<readonly RouteSpec[], string>();

/** The OpenAPI 3.1 document of these routes (contract schemas as components), as JSON. */
export function openApiJson(routes: readonly RouteSpec[]): string {
  const cached = cache.get(routes);
  if (cached) return cached;
  const app = new OpenAPIHono();
  const registry = app.openAPIRegistry;
  registry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description:
      "An API key `aur_<role>_<tenant>_<secret>` (admin, operator, viewer or agent), or the platform bootstrap key for POST /v1/tenants.",
  });
  for (const { route } of routes) registry.registerPath(route);
  const document = app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "Auraison central",
      version: CONTRACT_VERSION,
      description:
        "The tenant-scoped platform API of Auraison's central runtime. Errors are `ApiError` bodies; validation errors list each field's path.",
    },
  });
  // The routes' shapes come from the route objects; every named schema from the contract's own
  // JSON Schema generation (zod's), the same one contract/schema/*.json are made with. The
  // route generator's rendering of some zod types (a nullable reference, a recursive union
  // holding null) does not accept what zod accepts.
  document.components = {
    ...document.components,
    schemas: { ...document.components?.schemas, ...openApiComponents() },
  };
  const json = JSON.stringify(document);
  cache.set(routes, json);
  return json;
}
