import type { Context } from "hono";
import { isBootstrapKey } from "../auth/bootstrap";
import { bearerToken, parseKey } from "../auth/keys";
import { ApiFailure } from "../http/errors";

/**
 * Every tenant-scoped request goes to its tenant's Durable Object, found from the key itself
 * (`aur_<role>_<tenant>_…`) without a lookup; the object checks the key against its records.
 */
export async function forwardToTenant(c: Context<{ Bindings: Env }>): Promise<Response> {
  const secret = bearerToken(c.req.header("authorization"));
  if (!secret) throw new ApiFailure(401, "unauthorized", "missing `Authorization: Bearer <key>`");
  const key = parseKey(secret);
  if (!key) {
    if (await isBootstrapKey(secret, c.env.AURAISON_BOOTSTRAP_KEY))
      throw new ApiFailure(
        403,
        "forbidden",
        "the bootstrap key may only create tenants (POST /v1/tenants)",
      );
    throw new ApiFailure(401, "unauthorized", "not an Auraison API key");
  }
  return c.env.TENANT.getByName(key.tenant).fetch(c.req.raw);
}
