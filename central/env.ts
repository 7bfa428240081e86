import type { TenantAgent } from "./tenant/tenant-agent";

/** The Worker's bindings, as declared in wrangler.toml. */
export interface Env {
  TENANT: DurableObjectNamespace<TenantAgent>;
  ARCHIVE: R2Bucket;
}
