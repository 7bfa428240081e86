// The Worker's bindings and the Workers runtime types come from wrangler.toml through
// `npm run types` (worker-configuration.d.ts, generated, checked by CI). Secrets are declared
// here instead: each is optional (set with `wrangler secret put`, or .dev.vars locally), which the
// generated types cannot say, and the generator would otherwise type whatever a developer's
// .dev.vars holds. Provider keys a gateway config names are read by name at run time.
interface AuraisonSecrets {
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
  /** JSON ExternalPddlPlanner: the operator's external PDDL planner, for tenants that set none. */
  AURAISON_PDDL_PLANNER?: string;
  /** OTLP/HTTP collector for central's own spans (`/v1/traces` is appended); off when unset. */
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  /** The full OTLP/HTTP traces URL, instead of the endpoint above. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
  /** `key=value,...` headers for the collector (its credentials): a secret, never a provider key. */
  OTEL_EXPORTER_OTLP_HEADERS?: string;
  OTEL_EXPORTER_OTLP_TRACES_HEADERS?: string;
  /** `true` turns span export off whatever else is set. */
  OTEL_SDK_DISABLED?: string;
  /** The spans' `service.name` (default `auraison-central`). */
  OTEL_SERVICE_NAME?: string;
}
interface Env extends AuraisonSecrets {}
declare namespace Cloudflare {
  interface Env extends AuraisonSecrets {}
}

// drizzle-kit's generated migration bundle (see central/db/drizzle.config.ts).
declare module "*/migrations/migrations.js" {
  const migrations: {
    journal: { entries: { idx: number; when: number; tag: string; breakpoints: boolean }[] };
    migrations: Record<string, string>;
  };
  export default migrations;
}
