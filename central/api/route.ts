import { createRoute, type RouteConfig, z } from "@hono/zod-openapi";
import { ApiError, RequestId, type Role } from "../../contract";

/**
 * How a route of central's API is declared: method, path and schemas (the contract's), who may
 * call it, what the audit log calls it, and its handler, in one object. The Worker, the tenant
 * Durable Object and /openapi.json all read the same objects (api/routes.ts lists them), so a
 * route cannot exist undocumented and a handler is never looked up by name.
 */
export type Access = "public" | "bootstrap" | readonly Role[];

export interface RouteSpec {
  route: RouteConfig & { operationId: string };
  access: Access;
  /** Where it is served: the Worker itself or the tenant's Durable Object. */
  served: "worker" | "tenant";
  /** Mutating routes name their audit action (and honour `x-request-id` replays). */
  action?: string;
  /** Largest accepted body, in bytes. */
  bodyLimit?: number;
}

export const READERS = ["admin", "operator", "viewer"] as const satisfies readonly Role[];
export const WRITERS = ["admin", "operator"] as const satisfies readonly Role[];
export const ADMIN = ["admin"] as const satisfies readonly Role[];
export const AGENT = ["agent"] as const satisfies readonly Role[];

export const json = (schema: z.ZodType, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
export const body = (schema: z.ZodType, required = true) => ({
  body: { required, content: { "application/json": { schema } } },
});

const ERROR_TEXT: Record<number, string> = {
  400: "Invalid input: malformed JSON, a wrong type or an unknown field (issues name each path)",
  401: "Missing, malformed, unknown or revoked API key",
  403: "The key's role may not call this route",
  404: "No such resource in this tenant",
  409: "Conflicts with the current state, or an x-request-id replayed with another body or while still in flight",
  413: "Request body over the size limit",
  415: "Request body is not JSON",
  422: "Matches the schema, but refused: a rule between fields, a deadline already past, a provider URL or secret this platform does not allow",
  503: "Not configured",
};
export const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [c, json(ApiError, ERROR_TEXT[c]!)]));

export const id = (schema: z.ZodType) => z.object({ id: schema });
export const keyId = z.string().min(1).max(64);
const requestIdHeader = z.object({ "x-request-id": RequestId.optional() });

export function routeSpec(
  served: RouteSpec["served"],
  access: Access,
  route: RouteConfig & { operationId: string },
  extra: Pick<RouteSpec, "action" | "bodyLimit"> = {},
): RouteSpec {
  const roles = access === "public" ? [] : access === "bootstrap" ? ["bootstrap"] : [...access];
  const who =
    access === "public"
      ? "No key needed."
      : access === "bootstrap"
        ? "Platform bootstrap key only."
        : `Roles: ${roles.join(", ")}.`;
  // A mutating route takes x-request-id: a malformed one is a 400, a reused one may be a 409.
  const responses = extra.action ? { ...errors(400, 409), ...route.responses } : route.responses;
  const decorated = createRoute({
    ...route,
    responses,
    description: `${route.description ?? ""}${route.description ? "\n\n" : ""}${who}`,
    ...(access === "public" ? { security: [] } : { security: [{ bearer: [] }] }),
    "x-auraison-roles": roles,
    ...(extra.action ? { "x-auraison-audit": extra.action } : {}),
    request: extra.action ? { ...route.request, headers: requestIdHeader } : route.request,
  });
  return { route: decorated, access, served, ...extra };
}

/** A route with what answers it. */
export type Route<H> = RouteSpec & { handle: H };

/** `/v1/runs/{id}/cancel` → `/v1/runs/:id/cancel` */
export const honoPath = (path: string) => path.replace(/\{(\w+)\}/g, ":$1");
