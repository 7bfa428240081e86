import type { RouteConfig } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { z } from "zod";
import { type Access, type Route, type RouteSpec, routeSpec } from "../../api/route";
import type { Principal } from "../../auth/principal";
import { parseJson } from "../../http/body";
import type { TenantServices } from "../services";

export type TenantEnv = {
  Bindings: TenantServices;
  Variables: {
    principal: Principal;
    requestId: string | null;
    auditTarget: string | null;
    auditDetail: Record<string, unknown> | null;
    /** A mutating route's body, read (within its limit) before anything else looks at it. */
    body: string;
  };
};

export type TenantContextHono = Context<TenantEnv>;
export type Handler = (c: TenantContextHono) => Response | Promise<Response>;

/** A route the tenant Durable Object serves, with its handler. */
export type TenantRoute = Route<Handler>;

/**
 * Declares a tenant route: who may call it, its OpenAPI shape, for a mutating route its audit
 * action (and body limit), and the handler, together.
 */
export function tenantRoute(
  access: Access,
  config: RouteConfig & { operationId: string },
  ...rest: [Handler] | [Pick<RouteSpec, "action" | "bodyLimit">, Handler]
): TenantRoute {
  const [extra, handle] = rest.length === 1 ? [{}, rest[0]] : rest;
  return { ...routeSpec("tenant", access, config, extra), handle };
}

/** Names the target (and detail) of a mutating call for the audit log. */
export function audited(
  c: TenantContextHono,
  target: string | null,
  detail: Record<string, unknown> | null = null,
): void {
  c.set("auditTarget", target);
  c.set("auditDetail", detail);
}

/** The mutating call's body as JSON, validated against `schema` (400/415 as readJson). */
export function bodyJson<S extends z.ZodType>(
  c: TenantContextHono,
  schema: S,
  options: { empty?: unknown } = {},
): z.output<S> {
  return parseJson(c.get("body"), c.req.header("content-type") ?? null, schema, options);
}
