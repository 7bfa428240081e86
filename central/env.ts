import type { TenantAgent } from "./tenant/tenant-agent";

/** The Worker's bindings, as declared in wrangler.toml (secrets come from `wrangler secret put` or .dev.vars). */
export interface Env {
  TENANT: DurableObjectNamespace<TenantAgent>;
  ARCHIVE: R2Bucket;
  /** The platform bootstrap key: it may create tenants and nothing else. */
  AURAISON_BOOTSTRAP_KEY?: string;
  /** Workers AI, for the model gateway's `workers-ai` providers. */
  AI?: Ai;
  /** Seals provider keys stored through the gateway's admin API (AES-GCM); at least 32 chars. */
  AURAISON_GATEWAY_KEK?: string;
}
