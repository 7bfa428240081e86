import type { Context } from "hono";
import { Failure } from "../../contract";
import { isBootstrapKey } from "../auth/bootstrap";
import {
  bearerToken,
  configuredKeySecret,
  KEY_SECRET_MISSING,
  parseKey,
  verifyKey,
} from "../auth/keys";

/**
 * Every tenant-scoped request goes to its tenant's Durable Object, found from the key itself
 * (`aur_<role>_<tenant>_…`) without a lookup, once the key's tag shows central minted it: a
 * forged key is refused here and never reaches, or creates, any tenant's object. The object
 * then checks the key against its records (revocation, role).
 */
export async function forwardToTenant(c: Context<{ Bindings: Env }>): Promise<Response> {
  const secret = bearerToken(c.req.header("authorization"));
  if (!secret) throw new Failure(401, "unauthorized", "missing `Authorization: Bearer <key>`");
  const keySecret = configuredKeySecret(c.env);
  if (!keySecret) throw new Failure(503, "not_initialized", KEY_SECRET_MISSING);
  const key = await verifyKey(secret, keySecret);
  if (!key) {
    if (parseKey(secret)) throw new Failure(401, "unauthorized", "unknown or revoked API key");
    if (await isBootstrapKey(secret, c.env.AURAISON_BOOTSTRAP_KEY))
      throw new Failure(
        403,
        "forbidden",
        "the bootstrap key may only create tenants (POST /v1/tenants)",
      );
    throw new Failure(401, "unauthorized", "not an Auraison API key");
  }
  return c.env.TENANT.getByName(key.tenant).fetch(c.req.raw);
}
