import type { TenantAgent } from "./tenant/tenant-agent";

/**
 * The Worker's bindings, as declared in wrangler.toml, and its platform secrets and settings
 * (`wrangler secret put`, or .dev.vars locally). Provider keys the operator offers to tenants
 * are further Worker secrets, read only through `AURAISON_PROVIDER_SECRETS`.
 */
export interface Env {
  TENANT: DurableObjectNamespace<TenantAgent>;
  ARCHIVE: R2Bucket;
  /** Workers AI, for the model gateway's `workers-ai` providers. */
  AI?: Ai;
  /** The platform bootstrap key: it may create tenants and nothing else. */
  AURAISON_BOOTSTRAP_KEY?: string;
  /** Signs every API key central mints, so the Worker refuses forged keys before any tenant object is touched. */
  AURAISON_KEY_SECRET?: string;
  /** Seals provider keys stored through the gateway's admin API (AES-GCM); at least 32 chars. */
  AURAISON_GATEWAY_KEK?: string;
  /** JSON ProviderSecretOffers: the Worker secrets tenants may name as provider keys, and where each may go. */
  AURAISON_PROVIDER_SECRETS?: string;
  /** `allow`: providers on loopback and private addresses, and plain http (local and lab stacks). */
  AURAISON_PRIVATE_UPSTREAMS?: string;
}

/**
 * Every binding and platform secret of the Worker: none of them is ever a provider key, whatever
 * a tenant configures or an operator offers (tested against the gateway for each name).
 */
export const PLATFORM_ENV = [
  "TENANT",
  "ARCHIVE",
  "AI",
  "AURAISON_BOOTSTRAP_KEY",
  "AURAISON_KEY_SECRET",
  "AURAISON_GATEWAY_KEK",
  "AURAISON_PROVIDER_SECRETS",
  "AURAISON_PRIVATE_UPSTREAMS",
] as const satisfies readonly (keyof Env)[];

// Adding a member to Env without listing it above fails to compile here.
type Unlisted = Exclude<keyof Env, (typeof PLATFORM_ENV)[number]>;
export const PLATFORM_ENV_IS_COMPLETE: [Unlisted] extends [never] ? true : never = true;
