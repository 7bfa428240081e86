import { Hono } from "hono";
import { Failure, HEADERS } from "../contract";
import { honoPath } from "./api/route";
import { ROUTES } from "./api/routes";
import { unknownModelPath } from "./gateway/routes";
import { settleBodyAfter } from "./http/body";
import { failureResponse } from "./http/errors";
import { createLogger } from "./log";
import { forwardToTenant } from "./worker/forward";
import type { WorkerContext, WorkerRoute } from "./worker/route";
import { WORKER_ROUTES } from "./worker/routes";

const log = createLogger({ component: "worker" });
const READS = new Set(["GET", "HEAD", "OPTIONS"]);

const API = { routes: ROUTES };

/** Any other method on a path the Worker serves itself (tenant routes answer 405 in the object). */
function methodNotAllowed(c: WorkerContext, allow: string): Response {
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
 * The Worker: `/health`, `/openapi.json`, tenant creation and the model gateway here
 * (worker/routes.ts); every other `/v1` route, and `/metrics`, is forwarded to the caller's
 * tenant Durable Object.
 */
export const app = new Hono<{ Bindings: Env }>()
  .use(async (c, next) => {
    const started = Date.now();
    await next();
    // One line per change or failure. Successful reads (a memory projector polls the log
    // every few seconds) are in the platform's own request logs already: Workers Logs'
    // invocations when deployed, wrangler's request lines locally. So is a model call that was
    // answered (it carries its call id): its `model_call` event records it in full, and a line
    // each cost the gateway a tenth of its CPU per call.
    if (c.res.status < 400 && (READS.has(c.req.method) || c.res.headers.has(HEADERS.callId)))
      return;
    const path = new URL(c.req.url).pathname;
    log.info("request", {
      method: c.req.method,
      path,
      status: c.res.status,
      ms: Date.now() - started,
      request_id: c.req.header(HEADERS.requestId) ?? c.req.header("cf-ray") ?? null,
    });
  })
  .use(settleBodyAfter);

for (const route of WORKER_ROUTES)
  app.on(route.route.method.toUpperCase(), honoPath(route.route.path), (c) => route.handle(c, API));
for (const path of new Set(WORKER_ROUTES.map((r) => r.route.path))) {
  const routes = WORKER_ROUTES.filter((r) => r.route.path === path);
  const allow = routes.map((r) => r.route.method.toUpperCase()).join(", ");
  const refuse: NonNullable<WorkerRoute["refuse"]> = routes[0]!.refuse ?? methodNotAllowed;
  app.all(honoPath(path), (c) => refuse(c, allow));
}

// The tenant routes outside /v1 (GET /metrics, where scrapers look) go to the tenant object too.
const tenantPaths = ROUTES.filter((r) => r.served === "tenant").map((r) => r.route.path);
for (const path of new Set(tenantPaths.filter((p) => !p.startsWith("/v1/"))))
  app.all(honoPath(path), forwardToTenant);
for (const pattern of unknownModelPath.patterns) app.all(pattern, unknownModelPath.handle);

app
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
    if (error instanceof Failure) return failureResponse(error, c.req.header(HEADERS.requestId));
    log.error("unhandled error", { error, path: new URL(c.req.url).pathname });
    return failureResponse(new Failure(500, "internal", "internal error"));
  });
