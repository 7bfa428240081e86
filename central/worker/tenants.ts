import { Failure, HEADERS, PATHS, TenantCreated, TenantCreateRequest } from "../../contract";
import { body, errors, json } from "../api/route";
import { isBootstrapKey, MIN_BOOTSTRAP_KEY_LENGTH } from "../auth/bootstrap";
import { bearerToken, configuredKeySecret, KEY_SECRET_MISSING, parseKey } from "../auth/keys";
import { readJson } from "../http/body";
import { requestIdOf } from "../http/errors";

import { type WorkerContext, workerRoute } from "./route";

/** `POST /v1/tenants`: the bootstrap key creates a tenant; its Durable Object mints the admin key. */
export const createTenantRoute = workerRoute(
  "bootstrap",
  {
    operationId: "createTenant",
    method: "post",
    path: PATHS.tenants,
    tags: ["platform"],
    summary: "Create a tenant and its first admin key (shown once)",
    request: body(TenantCreateRequest),
    responses: {
      201: json(TenantCreated, "Created"),
      ...errors(400, 401, 403, 409, 413, 415, 503),
    },
  },
  (c) => createTenant(c),
  { action: "tenants.create" },
);

async function createTenant(c: WorkerContext): Promise<Response> {
  const secret = bearerToken(c.req.header("authorization"));
  const configured = c.env.AURAISON_BOOTSTRAP_KEY;
  if (!configured || configured.length < MIN_BOOTSTRAP_KEY_LENGTH)
    throw new Failure(
      503,
      "not_initialized",
      `no platform bootstrap key is configured: set the AURAISON_BOOTSTRAP_KEY secret (at least ${MIN_BOOTSTRAP_KEY_LENGTH} characters)`,
    );
  if (!configuredKeySecret(c.env)) throw new Failure(503, "not_initialized", KEY_SECRET_MISSING);
  if (!secret)
    throw new Failure(401, "unauthorized", "missing `Authorization: Bearer <bootstrap key>`");
  if (!(await isBootstrapKey(secret, configured))) {
    if (parseKey(secret))
      throw new Failure(403, "forbidden", "only the platform bootstrap key may create tenants");
    throw new Failure(401, "unauthorized", "not the bootstrap key");
  }
  const request = await readJson(c.req.raw, TenantCreateRequest, {
    limit: createTenantRoute.bodyLimit,
  });
  const requestId = requestIdOf(c.req.header(HEADERS.requestId));
  const answer = await c.env.TENANT.getByName(request.tenant).createTenant(
    { tenant: request.tenant, name: request.name ?? null },
    requestId,
    secret,
  );
  return new Response(answer.body, {
    status: answer.status,
    headers: { "content-type": "application/json" },
  });
}
