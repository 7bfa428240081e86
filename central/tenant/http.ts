import { Hono } from "hono";
import { getCookie } from "hono/cookie";
import { Failure, HEADERS } from "../../contract";
import { honoPath, type RouteSpec } from "../api/route";
import { bearerToken, digestOf } from "../auth/keys";
import { hasRole, type Principal } from "../auth/principal";
import { SESSION_COOKIE } from "../auth/session";
import { DEFAULT_BODY_LIMIT, readBodyText, settleBodyAfter } from "../http/body";
import { failureResponse, requestIdOf } from "../http/errors";
import { TENANT_ROUTES } from "./routes";
import type { Handler, TenantContextHono, TenantEnv } from "./routes/types";

/**
 * The tenant API inside the Durable Object: every route in routes/ gets key
 * authentication, its role check, `x-request-id` replay and an audit entry if it mutates.
 */
export function tenantApp(): Hono<TenantEnv> {
  const app = new Hono<TenantEnv>();

  app.use(settleBodyAfter);
  app.use(async (c, next) => {
    c.set("requestId", null);
    c.set("requestId", requestIdOf(c.req.header(HEADERS.requestId)));
    c.set("principal", await authenticate(c));
    c.set("auditTarget", null);
    c.set("auditDetail", null);
    await next();
  });

  for (const route of TENANT_ROUTES)
    app.on(route.route.method.toUpperCase(), honoPath(route.route.path), (c) =>
      serve(c, route, route.handle),
    );

  app.notFound((c) => {
    const path = new URL(c.req.url).pathname;
    const methods = TENANT_ROUTES.filter((r) => matchPath(r.route.path, path)).map((r) =>
      r.route.method.toUpperCase(),
    );
    if (methods.length)
      return c.json(
        {
          error: {
            code: "method_not_allowed",
            message: `${c.req.method} is not allowed here; use ${methods.join(", ")}`,
          },
        },
        405,
        { allow: methods.join(", ") },
      );
    return c.json(
      { error: { code: "not_found", message: `no route ${c.req.method} ${path}` } },
      404,
    );
  });

  app.onError((error, c) => {
    if (error instanceof Failure) return failureResponse(error, c.get("requestId"));
    c.env.ctx.log.error("unhandled error", { error, path: new URL(c.req.url).pathname });
    return failureResponse(new Failure(500, "internal", "internal error"), c.get("requestId"));
  });

  return app;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Who calls: a bearer key, or else the dashboard's session cookie. A change carried by the
 * cookie must come from the API's own origin (the cookie is SameSite=Strict as well): another
 * site cannot make a signed-in browser act.
 */
async function authenticate(c: TenantContextHono): Promise<Principal> {
  const secret = bearerToken(c.req.header("authorization"));
  if (secret) {
    const principal = c.env.record.exists() ? await c.env.keys.authenticate(secret) : null;
    if (!principal) throw new Failure(401, "unauthorized", "unknown or revoked API key");
    return principal;
  }
  const token = getCookie(c, SESSION_COOKIE);
  if (!token) throw new Failure(401, "unauthorized", "missing `Authorization: Bearer <key>`");
  const principal = c.env.record.exists() ? await c.env.keys.authenticateSession(token) : null;
  if (!principal)
    throw new Failure(
      401,
      "unauthorized",
      "the session expired or its key was revoked: sign in again",
    );
  if (!SAFE_METHODS.has(c.req.method) && c.req.header("origin") !== new URL(c.req.url).origin)
    throw new Failure(
      403,
      "forbidden",
      "a change made with a session cookie must come from the dashboard's own origin",
    );
  return principal;
}

async function serve(c: TenantContextHono, spec: RouteSpec, handler: Handler): Promise<Response> {
  const principal = c.get("principal");
  const roles = spec.access === "public" || spec.access === "bootstrap" ? [] : spec.access;
  const requestId = c.get("requestId");
  const audit = (outcome: "ok" | "denied" | "error", status: number) =>
    spec.action &&
    c.env.audit.record({
      principal: principal.id,
      role: principal.role,
      action: spec.action,
      target: c.get("auditTarget") ?? c.req.param("id") ?? null,
      outcome,
      status,
      requestId,
      detail: c.get("auditDetail"),
    });
  if (!hasRole(principal, roles)) {
    audit("denied", 403);
    throw new Failure(
      403,
      "forbidden",
      `a ${principal.role} key may not ${spec.route.method.toUpperCase()} ${spec.route.path} (allowed: ${roles.join(", ")})`,
    );
  }
  if (!spec.action) return handler(c);
  // The body is read once, within the route's limit, before anything acts on it: a replay is
  // matched against it, and the handler parses it from here.
  const { text: body } = await readBodyText(c.req.raw, spec.bodyLimit ?? DEFAULT_BODY_LIMIT);
  c.set("body", body);
  if (requestId) {
    const begun = await c.env.idempotency.begin(
      principal,
      requestId,
      c.req.method,
      new URL(c.req.url).pathname,
      await digestOf(body),
    );
    if (begun.kind === "replay") return begun.response;
  }
  let response: Response;
  try {
    response = await handler(c);
  } catch (error) {
    const status = error instanceof Failure ? error.status : 500;
    audit(status === 401 || status === 403 ? "denied" : "error", status);
    if (requestId) {
      if (error instanceof Failure && status < 500)
        await c.env.idempotency.finish(principal, requestId, failureResponse(error, requestId));
      else c.env.idempotency.abandon(principal, requestId);
    }
    throw error;
  }
  audit(response.status < 400 ? "ok" : "error", response.status);
  return requestId ? c.env.idempotency.finish(principal, requestId, response) : response;
}

function matchPath(template: string, path: string): boolean {
  const pattern = new RegExp(`^${template.replace(/\{\w+\}/g, "[^/]+")}$`);
  return pattern.test(path);
}
