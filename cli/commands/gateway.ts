import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { pricesFromLiteLlm } from "../../central/gateway/pricing/litellm";
import {
  type CentralClient,
  GatewayConfig,
  type GatewayConfigInput,
  GatewayConfigView,
  GatewayStatus,
  own,
  PATHS,
  type PriceTable,
  type ProviderConfig,
  parse,
} from "../../contract";
import { centralClient, globals } from "../context";
import { CliError, EXIT } from "../errors";
import { readJsonFile } from "../json-file";
import { printRows, printValue } from "../output";

/**
 * A gateway config file: the `GatewayConfig` JSON of `PUT /v1/gateway/config`, where a key
 * `{ "value": "${NAME}" }` is read from the environment, so the file itself holds no secret.
 */
export function readGatewayConfigFile(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): GatewayConfigInput {
  const raw = readJsonFile(file);
  const missing: string[] = [];
  const substitute = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(substitute);
    if (value === null || typeof value !== "object") return value;
    // fromEntries defines keys, so a `__proto__` in the file reaches the schema's check.
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, inner]) => [
        key,
        key === "value" && typeof inner === "string"
          ? inner.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
              const found = own(env, name);
              if (found === undefined || found === "") missing.push(name);
              return found ?? "";
            })
          : substitute(inner),
      ]),
    );
  };
  const config = substitute(raw);
  if (missing.length)
    throw new CliError(
      `${file}: the environment has no ${[...new Set(missing)].join(", ")} for a provider key`,
      EXIT.usage,
    );
  parse(GatewayConfig, config, file);
  return config as GatewayConfigInput;
}

/** The catalogue's prefix for a provider's models, where LiteLLM lists them under one. */
function cataloguePrefix(provider: ProviderConfig): string | null {
  switch (provider.kind) {
    case "openai":
    case "anthropic":
      return provider.kind;
    case "workers-ai":
      return "cloudflare";
    case "ai-gateway":
      return provider.upstream === "openai" || provider.upstream === "anthropic"
        ? provider.upstream
        : null;
    default:
      return null;
  }
}

/**
 * Prices a gateway config file's models from a LiteLLM catalogue and writes them into the file
 * as its `prices` (a new version), leaving everything else, `${NAME}` placeholders included, as
 * it was. Returns the table and the models the catalogue does not price.
 */
export function priceGatewayConfigFile(
  catalogueFile: string,
  configFile: string,
  version: string,
): { prices: PriceTable; missing: string[] } {
  const catalogue = readJsonFile(catalogueFile);
  if (!catalogue || typeof catalogue !== "object" || Array.isArray(catalogue))
    throw new CliError(`${catalogueFile}: not a LiteLLM catalogue (a JSON object)`, EXIT.usage);
  const raw = readJsonFile(configFile) as Record<string, unknown>;
  const config = parse(GatewayConfig, raw, configFile);
  const served = config.providers.flatMap((provider) =>
    provider.models.map((model) => ({
      provider: provider.id,
      catalogue: cataloguePrefix(provider),
      model,
    })),
  );
  const priced = pricesFromLiteLlm(catalogue as Record<string, unknown>, version, served);
  const updated = { ...raw, prices: priced.prices };
  parse(GatewayConfig, updated, configFile);
  writeFileSync(configFile, `${JSON.stringify(updated, null, 2)}\n`);
  return priced;
}

/** Applies a gateway config file to the tenant; the answer shows keys only by reference. */
export async function applyGatewayConfig(
  client: CentralClient,
  file: string,
): Promise<GatewayConfigView> {
  return client.request("PUT", PATHS.gatewayConfig, GatewayConfigView, readGatewayConfigFile(file));
}

function summary(view: GatewayConfigView): string {
  const lines = [`gateway config version ${view.version}`];
  for (const p of view.providers) {
    const key =
      !("key" in p) || !p.key
        ? "no key"
        : "secret" in p.key
          ? `key from secret ${p.key.secret}`
          : "key stored (sealed)";
    lines.push(`  provider ${p.id} (${p.kind}): ${p.models.join(", ")}; ${key}`);
  }
  for (const [name, alias] of Object.entries(view.aliases))
    lines.push(`  alias ${name} (${alias.strategy}): ${alias.candidates.join(" -> ")}`);
  for (const rule of view.rules)
    lines.push(
      `  rule ${rule.id}: ${"alias" in rule.use ? `alias ${rule.use.alias}` : rule.use.candidates.join(" -> ")}`,
    );
  lines.push(
    `  prices: ${view.prices ? `${view.prices.version} (${Object.keys(view.prices.models).length} models)` : "none (every model unpriced)"}`,
  );
  return lines.join("\n");
}

export function registerGateway(program: Command): void {
  const gateway = program
    .command("gateway")
    .description("the tenant's model gateway: providers, routing, prices, limits (admin)");

  gateway
    .command("apply")
    .description(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the file's placeholder syntax
      "replace the gateway config with a JSON file (`${NAME}` in a key value reads the environment)",
    )
    .argument("<file>", "GatewayConfig JSON")
    .action(async (file: string, _opts: unknown, command: Command) => {
      const view = await applyGatewayConfig(centralClient(command), file);
      printValue(globals(command).json ? view : summary(view), globals(command).json);
    });

  gateway
    .command("prices")
    .description(
      "price a gateway config file's models from a LiteLLM catalogue (model_prices_and_context_window.json), written into the file as a new price version",
    )
    .argument("<catalogue>", "LiteLLM's model_prices_and_context_window.json")
    .argument("<config>", "the GatewayConfig JSON file to update (then `gateway apply` it)")
    .option("--price-version <name>", "the price table's version (default: litellm-<UTC minute>)")
    .action(
      (catalogue: string, config: string, opts: { priceVersion?: string }, command: Command) => {
        const version = opts.priceVersion ?? `litellm-${new Date().toISOString().slice(0, 16)}`;
        const { prices, missing } = priceGatewayConfigFile(catalogue, config, version);
        if (globals(command).json) return printValue({ prices, missing }, true);
        const lines = [
          `${config}: prices ${prices.version}, ${Object.keys(prices.models).length} models priced`,
          ...missing.map((m) => `  not in the catalogue (unpriced): ${m}`),
        ];
        printValue(lines.join("\n"), false);
      },
    );

  gateway
    .command("show")
    .description("the gateway config (provider keys only by reference)")
    .action(async (_opts: unknown, command: Command) => {
      const view = await centralClient(command).request(
        "GET",
        PATHS.gatewayConfig,
        GatewayConfigView,
      );
      printValue(globals(command).json ? view : summary(view), globals(command).json);
    });

  gateway
    .command("status")
    .description("provider health and circuits, budgets and the response cache")
    .action(async (_opts: unknown, command: Command) => {
      const status = await centralClient(command).request(
        "GET",
        PATHS.gatewayStatus,
        GatewayStatus,
      );
      const json = globals(command).json;
      if (json) return printValue(status, true);
      printRows(
        status.providers.map((p) => ({
          ...p,
          latency_ms: p.latency_ms === null ? null : Math.round(p.latency_ms),
          error_rate: p.error_rate === null ? null : `${Math.round(p.error_rate * 100)}%`,
        })),
        [
          "id",
          "kind",
          "circuit",
          "next_probe_at",
          "latency_ms",
          "error_rate",
          "calls",
          "failures",
          "last_error",
        ],
        false,
      );
      if (status.budgets.length) {
        process.stdout.write("\n");
        printRows(
          status.budgets,
          [
            "scope",
            "subject",
            "period",
            "usd_used",
            "usd_reserved",
            "usd_limit",
            "tokens_used",
            "tokens_limit",
            "unpriced_calls",
          ],
          false,
        );
      }
      process.stdout.write(
        `\ncache: ${status.cache.entries} entries, ${status.cache.bytes} bytes, ${status.cache.hits} hits; prices: ${status.prices.version ?? "none"}\n`,
      );
    });
}
