import { OpenAPIHono } from "@hono/zod-openapi";
import { CONTRACT_VERSION, openApiComponents } from "../../contract";
import { ROUTES } from "./spec";

let cached: string | null = null;

/** The OpenAPI 3.1 document of every route in ROUTES (contract schemas as components), as JSON. */
export function openApiJson(): string {
  if (cached) return cached;
  const app = new OpenAPIHono();
  const registry = app.openAPIRegistry;
  registry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description:
      "An API key `aur_<role>_<tenant>_<secret>` (admin, operator, viewer or agent), or the platform bootstrap key for POST /v1/tenants.",
  });
  for (const { route } of ROUTES) registry.registerPath(route);
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
  cached = JSON.stringify(document);
  return cached;
}
