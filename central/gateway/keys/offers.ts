import { own, ProviderSecretOffers } from "../../../contract";
import { PLATFORM_ENV } from "../../env";
import { envJson } from "../../env-json";
import { createLogger } from "../../log";

const log = createLogger({ component: "gateway" });
const PLATFORM = new Set<string>(PLATFORM_ENV);
/** The operator's offers (`AURAISON_PROVIDER_SECRETS`); none when absent or invalid. */
const offersOf = envJson(ProviderSecretOffers, {
  name: "AURAISON_PROVIDER_SECRETS",
  schemaName: "ProviderSecretOffers",
  fallback: {} as ProviderSecretOffers,
  unused: "no provider secret is offered",
  log,
});
const offers = (env: Env): ProviderSecretOffers => offersOf(env.AURAISON_PROVIDER_SECRETS);

/**
 * Why `tenant` may not send the Worker secret `name` to `host`, or null. A platform binding or
 * secret is never a provider key, even if offered by mistake; any other secret must be offered,
 * to this tenant, for this host. The reason never says whether such a secret exists.
 */
export function secretRefusal(name: string, tenant: string, host: string, env: Env): string | null {
  const offer =
    PLATFORM.has(name) || name.startsWith("AURAISON_") ? undefined : own(offers(env), name);
  if (!offer || (offer.tenants && !offer.tenants.includes(tenant)))
    return `${name} is not a provider secret this platform offers to tenant ${tenant} (AURAISON_PROVIDER_SECRETS)`;
  if (!offer.hosts.includes(host.toLowerCase()))
    return `${name} may be sent only to ${offer.hosts.join(", ")}, not to ${host}`;
  return null;
}
