import { type Context, Hono } from "hono";
import { HEADERS, PATHS } from "../contract";
import { openApiJson } from "./api/document";
import { ROUTES } from "./api/spec";
import { gateway } from "./gateway/app";
import { settleBodyAfter } from "./http/body";
import { ApiFailure, failureResponse } from "./http/errors";
import { createLogger } from "./log";
import { forwardToTenant } from "./worker/forward";
import { health } from "./worker/health";
import { createTenant } from "./worker/tenants";

const log = createLogger({ component: "worker" });
const READS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Any other method on a path the Worker serves itself (tenant routes answer 405 in the object). */
function methodNotAllowed(c: Context): Response {
  const path = new URL(c.req.url).pathname;
  const allow = ROUTES.filter((r) => r.served === "worker" && r.route.path === path)
    .map((r) => r.route.method.toUpperCase())
    .join(", ");
  return c.json(
    {
      error: {
        code: "method_not_allowed",
        message: `${c.req.method} is not allowed here; use ${allow}`,
      },
    },
    405,
    { allow },
  );
}

/**
 * The Worker: `/health`, `/openapi.json`, tenant creation and the model gateway here; every
 * other `/v1` route is forwarded to the caller's tenant Durable Object.
 */
export const app = new Hono<{ Bindings: Env }>()
  .use(async (c, next) => {
    const started = Date.now();
    await next();
    // One line per change or failure. Successful reads (a memory projector polls the log
    // every few seconds) are in the platform's own request logs already: Workers Logs'
    // invocations when deployed, wrangler's request lines locally.
    if (READS.has(c.req.method) && c.res.status < 400) return;
    const path = new URL(c.req.url).pathname;
    log.info("request", {
      method: c.req.method,
      path,
      status: c.res.status,
      ms: Date.now() - started,
      request_id: c.req.header(HEADERS.requestId) ?? c.req.header("cf-ray") ?? null,
    });
  })
  .use(settleBodyAfter)
  .route("/", health)
  .get(PATHS.openapi, (c) => c.body(openApiJson(), 200, { "content-type": "application/json" }))
  .post(PATHS.tenants, createTenant)
  .route("/", gateway)
  .all(PATHS.health, methodNotAllowed)
  .all(PATHS.openapi, methodNotAllowed)
  .all(PATHS.tenants, methodNotAllowed)
  .all("/v1/*", forwardToTenant)
  .notFound((c) =>
    c.json(
      {
        error: {
          code: "not_found",
          message: `no route ${c.req.method} ${new URL(c.req.url).pathname}`,
        },
      },
      404,
    ),
  )
  .onError((error, c) => {
    if (error instanceof ApiFailure) return failureResponse(error, c.req.header(HEADERS.requestId));
    log.error("unhandled error", { error, path: new URL(c.req.url).pathname });
    return failureResponse(new ApiFailure(500, "internal", "internal error"));
  });
