import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LITELLM_SAMPLE } from "../../central/gateway/pricing/catalogue";
import {
  type CentralDev,
  createKey,
  createTenant,
  startCentralDev,
} from "../../helpers/central-dev";
import { runCli } from "../../helpers/cli";

/** `auraison gateway apply | show | status | prices` against the real central under wrangler dev. */
let central: CentralDev;
let admin: string;
const dir = mkdtempSync(join(tmpdir(), "auraison-cli-gateway-"));
const KEY_IN_ENV = "sk-lab-0123456789abcdefghijkl";

beforeAll(async () => {
  central = await startCentralDev({
    vars: {
      AURAISON_GATEWAY_KEK: "k".repeat(43),
      AURAISON_PROVIDER_SECRETS: JSON.stringify({ OPENAI_API_KEY: { hosts: ["api.openai.com"] } }),
      AURAISON_PRIVATE_UPSTREAMS: "allow",
    },
  });
  admin = await createTenant(central.url, central.bootstrapKey, "cli-gw");
}, 120_000);
afterAll(async () => {
  await central?.stop();
});

const cli = (args: string[], env: Record<string, string> = {}, key = admin) =>
  runCli(args, {
    env: { AURAISON_HOME: dir, AURAISON_URL: central.url, AURAISON_KEY: key, ...env },
    timeoutMs: 30_000,
  });

const file = (name: string, config: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
};

const CONFIG = {
  providers: [
    { id: "openai", kind: "openai", key: { secret: "OPENAI_API_KEY" }, models: ["gpt-4.1-mini"] },
    {
      id: "lab",
      kind: "openai-compatible",
      base_url: "http://127.0.0.1:9/v1",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the file's placeholder syntax
      key: { value: "${LAB_VLLM_KEY}" },
      models: ["llama"],
    },
  ],
  aliases: { auto: { candidates: ["lab/llama", "openai/gpt-4.1-mini"], strategy: "cost" } },
  rules: [{ id: "notes-local", when: { app: ["lab-notes"] }, use: { alias: "auto" } }],
  prices: { version: "2026-06", models: { "gpt-4.1-mini": { input: 0.4, output: 1.6 } } },
};

describe("auraison gateway", () => {
  it("applies a config file, reading key values from the environment, and shows it without the keys", async () => {
    const applied = await cli(["gateway", "apply", file("gateway.json", CONFIG)], {
      LAB_VLLM_KEY: KEY_IN_ENV,
    });
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toBe(
      [
        "gateway config version 1",
        "  provider openai (openai): gpt-4.1-mini; key from secret OPENAI_API_KEY",
        "  provider lab (openai-compatible): llama; key stored (sealed)",
        "  alias auto (cost): lab/llama -> openai/gpt-4.1-mini",
        "  rule notes-local: alias auto",
        "  prices: 2026-06 (1 models)",
        "",
      ].join("\n"),
    );
    const shown = await cli(["--json", "gateway", "show"]);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      version: 1,
      providers: [{ id: "openai" }, { id: "lab", key: { stored: true } }],
    });
    expect(shown.stdout).not.toContain(KEY_IN_ENV);
    const status = await cli(["gateway", "status"]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^ID\s+KIND\s+CIRCUIT/);
    expect(status.stdout).toMatch(/lab\s+openai-compatible\s+closed/);
    expect(status.stdout).toContain("cache: 0 entries, 0 bytes, 0 hits; prices: 2026-06");
  });

  it("refuses a bad file before sending it: field paths, a missing variable, not JSON (exit 2)", async () => {
    const broken = await cli(
      [
        "gateway",
        "apply",
        file("bad.json", { ...CONFIG, aliases: { auto: { candidates: ["lab/gpt-9"] } } }),
      ],
      { LAB_VLLM_KEY: KEY_IN_ENV },
    );
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain(
      "aliases.auto.candidates[0]: provider lab does not list model gpt-9",
    );
    const missing = await cli(["gateway", "apply", file("gateway.json", CONFIG)], {
      LAB_VLLM_KEY: "",
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("the environment has no LAB_VLLM_KEY");
    // A placeholder named like an Object member is a variable like any other.
    const inherited = await cli([
      "gateway",
      "apply",
      file("inherited.json", {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the file's placeholder syntax
        providers: [{ ...CONFIG.providers[1], key: { value: "${constructor}" } }],
      }),
    ]);
    expect(inherited.code).toBe(2);
    expect(inherited.stderr).toContain("the environment has no constructor");
    const proto = join(dir, "proto.json");
    writeFileSync(proto, '{"__proto__": {"providers": []}, "aliases": {}}');
    const protoKey = await cli(["gateway", "apply", proto]);
    expect(protoKey.code).toBe(2);
    expect(protoKey.stderr).toContain("__proto__");
    const notJson = join(dir, "not.json");
    writeFileSync(notJson, "{ providers:");
    expect((await cli(["gateway", "apply", notJson])).code).toBe(2);
    const operator = await createKey(central.url, admin, "operator", "ops");
    const denied = await cli(["gateway", "show"], {}, operator);
    expect(denied.code).toBe(4);
    expect(denied.stderr).toContain("central answered 403 forbidden");
  });

  it("prices a config file's models from a LiteLLM catalogue, and /v1/models reports their context windows", async () => {
    const configFile = file("priced.json", CONFIG);
    const catalogue = file("litellm.json", LITELLM_SAMPLE);
    const priced = await cli([
      "gateway",
      "prices",
      catalogue,
      configFile,
      "--price-version",
      "ll-1",
    ]);
    expect(priced.code, priced.stderr).toBe(0);
    expect(priced.stdout).toBe(
      [
        `${configFile}: prices ll-1, 1 models priced`,
        "  not in the catalogue (unpriced): lab/llama",
        "",
      ].join("\n"),
    );
    const written = JSON.parse(readFileSync(configFile, "utf8"));
    // Everything else is as it was, the key's placeholder included.
    expect({ ...written, prices: CONFIG.prices }).toEqual(CONFIG);
    expect(written.prices).toEqual({
      version: "ll-1",
      models: {
        "gpt-4.1-mini": {
          input: 0.4,
          output: 1.6,
          cache_read: 0.1,
          context_window: 1_047_576,
          max_output_tokens: 32_768,
        },
      },
    });
    const applied = await cli(["gateway", "apply", configFile], { LAB_VLLM_KEY: KEY_IN_ENV });
    expect(applied.code, applied.stderr).toBe(0);
    const models = (await (
      await fetch(`${central.url}/v1/models`, { headers: { authorization: `Bearer ${admin}` } })
    ).json()) as { data: { id: string; context_window: number | null }[] };
    const window = Object.fromEntries(models.data.map((m) => [m.id, m.context_window]));
    // The alias may be answered by llama, whose window is unknown.
    expect(window).toEqual({ auto: null, "openai/gpt-4.1-mini": 1_047_576, "lab/llama": null });
  });
});
