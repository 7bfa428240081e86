/**
 * Every binding and platform secret of the Worker (`Env`: wrangler.toml's bindings through
 * `npm run types`, the secrets in globals.d.ts). None of them is ever a provider key, whatever a
 * tenant configures or an operator offers (tested against the gateway for each name). Provider
 * keys the operator offers to tenants are further Worker secrets, read only through
 * `AURAISON_PROVIDER_SECRETS`. env-complete.ts checks at compile time that this lists them all.
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
  "AURAISON_PDDL_PLANNER",
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  "OTEL_EXPORTER_OTLP_HEADERS",
  "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
  "OTEL_SDK_DISABLED",
  "OTEL_SERVICE_NAME",
] as const;
