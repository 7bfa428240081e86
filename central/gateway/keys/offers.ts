import { check, ProviderSecretOffers } from "../../../contract";
import { PLATFORM_ENV } from "../../env";
import { createLogger } from "../../log";

const log = createLogger({ component: "gateway" });
const PLATFORM = new Set<string>(PLATFORM_ENV);
const parsed = new Map<string, ProviderSecretOffers>();

/** The operator's offers (`AURAISON_PROVIDER_SECRETS`), parsed once per value; none when absent or invalid. */
function offers(env: Env): ProviderSecretOffers {
  const raw = env.AURAISON_PROVIDER_SECRETS;
  if (!raw) return {};
  let value = parsed.get(raw);
  if (!value) {
    let json: unknown = null;
    try {
      json = JSON.parse(raw);
    } catch {}
    const result = check(ProviderSecretOffers, json);
    if (!result.ok)
      log.error(
        "AURAISON_PROVIDER_SECRETS is not valid ProviderSecretOffers JSON; no provider secret is offered",
        {
          issues: result.issues,
        },
      );
    value = result.ok ? result.value : {};
    parsed.set(raw, value);
  }
  return value;
}

/**
 * Why `tenant` may not send the Worker secret `name` to `host`, or null. A platform binding or
 * secret is never a provider key, even if offered by mistake; any other secret must be offered,
 * to this tenant, for this host. The reason never says whether such a secret exists.
 */
export function secretRefusal(name: string, tenant: string, host: string, env: Env): string | null {
  const offer = PLATFORM.has(name) || name.startsWith("AURAISON_") ? undefined : offers(env)[name];
  if (!offer || (offer.tenants && !offer.tenants.includes(tenant)))
    return `${name} is not a provider secret this platform offers to tenant ${tenant} (AURAISON_PROVIDER_SECRETS)`;
  if (!offer.hosts.includes(host.toLowerCase()))
    return `${name} may be sent only to ${offer.hosts.join(", ")}, not to ${host}`;
  return null;
}
