import type { Context } from "hono";
import { HEADERS, TenantCreateRequest } from "../../contract";
import { ROUTES } from "../api/spec";
import { isBootstrapKey, MIN_BOOTSTRAP_KEY_LENGTH } from "../auth/bootstrap";
import { bearerToken, configuredKeySecret, KEY_SECRET_MISSING, parseKey } from "../auth/keys";
import { readJson } from "../http/body";
import { ApiFailure, requestIdOf } from "../http/errors";

const spec = ROUTES.find((r) => r.route.operationId === "createTenant")!;

/** `POST /v1/tenants`: the bootstrap key creates a tenant; its Durable Object mints the admin key. */
export async function createTenant(c: Context<{ Bindings: Env }>): Promise<Response> {
  const secret = bearerToken(c.req.header("authorization"));
  const configured = c.env.AURAISON_BOOTSTRAP_KEY;
  if (!configured || configured.length < MIN_BOOTSTRAP_KEY_LENGTH)
    throw new ApiFailure(
      503,
      "not_initialized",
      `no platform bootstrap key is configured: set the AURAISON_BOOTSTRAP_KEY secret (at least ${MIN_BOOTSTRAP_KEY_LENGTH} characters)`,
    );
  if (!configuredKeySecret(c.env)) throw new ApiFailure(503, "not_initialized", KEY_SECRET_MISSING);
  if (!secret)
    throw new ApiFailure(401, "unauthorized", "missing `Authorization: Bearer <bootstrap key>`");
  if (!(await isBootstrapKey(secret, configured))) {
    if (parseKey(secret))
      throw new ApiFailure(403, "forbidden", "only the platform bootstrap key may create tenants");
    throw new ApiFailure(401, "unauthorized", "not the bootstrap key");
  }
  const request = await readJson(c.req.raw, TenantCreateRequest, { limit: spec.bodyLimit });
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
