import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { syntheticEvents } from "../bench/memory-synthetic";
import { buildProgram } from "../cli/main";
import { PROJECT_ROOT } from "../cli/wrangler";
import { runCli } from "./helpers/cli";
import { tempDir, writeLog } from "./lakehouse/fixture";

/**
 * Every command in the README is exercised somewhere: each `sh` line must be claimed below by
 * the test (or CI step) that runs it for real, or by the reason it cannot run here (a
 * Cloudflare account). Every `auraison` command is also checked against the CLI itself: its
 * subcommands and flags must exist. The Python and SQL snippets run against a real lake.
 */

const README = readFileSync(join(PROJECT_ROOT, "README.md"), "utf8");

type Claim = { pattern: RegExp } & (
  | { test: string; needle: string }
  | { external: string }
  | { script: true }
);

const CLAIMS: Claim[] = [
  {
    pattern: /^npm install && npm start/,
    test: "test/e2e/local-stack.test.ts",
    needle: "startDevStack",
  },
  { pattern: /^(npm install && )?npm test\b/, test: ".ci/run", needle: "npm test" },
  { pattern: /^npm run /, script: true },
  {
    pattern: /^npm install --prefix \.node --no-save node@24$/,
    test: ".ci/run",
    needle: "--prefix .node",
  },
  {
    pattern: /^export PATH="\$PWD\/\.node\/node_modules\/\.bin:\$PATH"$/,
    test: ".ci/run",
    needle: 'export PATH="$PWD/.node/node_modules/.bin:$PATH"',
  },
  {
    pattern: /^npm install --omit=dev$/,
    test: "test/e2e/edge-host-install.test.ts",
    needle: '"--omit=dev"',
  },
  { pattern: /^bash \.ci\/run/, test: ".ci/run", needle: "passed" },
  { pattern: /^auraison --help/, test: "test/cli/cli.test.ts", needle: "--help" },
  { pattern: /^auraison intent submit/, test: "test/e2e/local-stack.test.ts", needle: '"submit"' },
  {
    pattern: /^auraison (runs|agents) list/,
    test: "test/e2e/local-stack.test.ts",
    needle: '"list"',
  },
  {
    pattern: /^auraison memory sql "select r\.run_id/,
    test: "test/e2e/local-stack.test.ts",
    needle: '"sql"',
  },
  {
    pattern: /^auraison keys create/,
    test: "test/cli/commands/central-commands.test.ts",
    needle: '"create"',
  },
  {
    pattern: /^auraison edge start --app-dir examples\/apps\/dea$/,
    test: "test/e2e/local-stack.test.ts",
    needle: '"examples", "apps", "dea"',
  },
  {
    pattern: /^auraison secrets (set|list|rm)\b/,
    test: "test/e2e/run-secrets.test.ts",
    needle: '"secrets"',
  },
  { pattern: /^auraison edge start/, test: "test/e2e/failover.test.ts", needle: "startSampleEdge" },
  {
    pattern: /^auraison (app init|edge start --app-dir my-app)/,
    test: "test/e2e/local-stack.test.ts",
    needle: '"--app-dir"',
  },
  {
    pattern: /^auraison (intent (list|show)|events|audit|settings|runs (events|fork))\b/,
    test: "test/cli/commands/central-commands.test.ts",
    needle: '"fork"',
  },
  {
    pattern: /^auraison edge (run|status|cancel)/,
    test: "test/cli/commands/edge.test.ts",
    needle: '"edge"',
  },
  { pattern: /^auraison edge fork/, test: "test/edge/rpc/app.test.ts", needle: "fork" },
  {
    pattern: /^auraison memory sync .*--follow/,
    test: "test/e2e/failover.test.ts",
    needle: '"--follow"',
  },
  {
    pattern: /^auraison memory sync --from-dir \/var/,
    test: "test/lakehouse/lake/postgres-catalog.test.ts",
    needle: "sync",
  },
  {
    pattern:
      /^auraison memory (sync|rebuild|status|snapshots|compact|sql|runs|costs|slow-tools|denials)\b/,
    test: "test/cli/memory.test.ts",
    needle: '"memory"',
  },
  {
    pattern: /^export AURAISON_LAKE_(CATALOG|DATA)=/,
    test: "test/lakehouse/lake/location.test.ts",
    needle: "AURAISON_LAKE_CATALOG",
  },
  {
    pattern: /^curl -X POST .*\/v1\/tenants/,
    test: "test/central/worker/tenants.test.ts",
    needle: "tenants",
  },
  { pattern: /^export AURAISON_URL=/, test: "test/cli/settings.test.ts", needle: "AURAISON_URL" },
  {
    pattern: /^curl .*\/metrics" \| promtool check metrics$/,
    test: "test/central/tenant/metrics.node.test.ts",
    needle: '["check", "metrics"]',
  },
  {
    pattern: /^curl .*\/v1\/chat\/completions/,
    test: "test/central/gateway/streaming.node.test.ts",
    needle: "chat/completions",
  },
  {
    pattern: /^auraison gateway (apply|show|status|prices)/,
    test: "test/cli/commands/gateway.test.ts",
    needle: '"gateway"',
  },
  {
    pattern: /^auraison (plan (submit|show|list|pause)|approvals (list|approve))\b/,
    test: "test/cli/commands/central-commands.test.ts",
    needle: '"approvals"',
  },
  {
    pattern: /^auraison plan pddl /,
    test: "test/cli/commands/plan.test.ts",
    needle: '"pddl"',
  },
  { pattern: /^auraison deploy --dry-run/, test: ".ci/run", needle: "deploy --dry-run" },
  {
    pattern: /^auraison deploy\s*$/,
    external: "deploys to Cloudflare: needs an account and network",
  },
  {
    pattern: /^npx wrangler (r2|secret)/,
    external: "changes a Cloudflare account: needs one and network",
  },
  {
    pattern: /^node -e .*\| npx wrangler secret put/,
    external: "changes a Cloudflare account: needs one and network",
  },
];

/** The README's `sh` lines: continuations joined, comments and `npx ` dropped. */
function shCommands(): string[] {
  const out: string[] = [];
  for (const [, body] of README.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const raw of body!.replace(/\\\n\s*/g, " ").split("\n")) {
      const line = stripComment(raw)
        .trim()
        .replace(/^npx (auraison|wrangler)\b/, (_m, c) => (c === "auraison" ? c : "npx wrangler"));
      if (line) out.push(line);
    }
  }
  return out;
}

/** Drops a trailing `# comment` that is outside quotes. */
function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i);
  }
  return line;
}

/** Shell words, quotes removed (enough for the README's commands). */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

function options(command: Command): string[] {
  const own = command.options.map((o) => o.long).filter((l): l is string => Boolean(l));
  return command.parent ? [...own, ...options(command.parent)] : own;
}

/** Problems with an `auraison` command line: unknown subcommands or flags. */
function cliProblems(line: string): string[] {
  let command: Command = buildProgram();
  const args = words(line).slice(1);
  const problems: string[] = [];
  let i = 0;
  for (; i < args.length; i++) {
    const word = args[i]!;
    if (word.startsWith("--")) continue;
    const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!sub) break;
    command = sub;
  }
  if (command.commands.length > 0 && !args.includes("--help"))
    problems.push(`'${line}' stops at the command group '${command.name()}'`);
  const known = options(command);
  for (const word of args)
    if (word.startsWith("--") && !known.includes(word.split("=")[0]!) && word !== "--help")
      problems.push(`'${line}': ${command.name()} has no option ${word}`);
  return problems;
}

describe("README", () => {
  const commands = shCommands();

  it("has its commands, and every one is claimed by what runs it (or why it cannot run here)", () => {
    expect(commands.length).toBeGreaterThan(40);
    const unclaimed = commands.filter((c) => !CLAIMS.some((claim) => claim.pattern.test(c)));
    expect(unclaimed).toEqual([]);
    for (const claim of CLAIMS) {
      expect(
        commands.some((c) => claim.pattern.test(c)),
        `no README command matches ${claim.pattern}`,
      ).toBe(true);
      if ("test" in claim) {
        const file = join(PROJECT_ROOT, claim.test);
        expect(existsSync(file), claim.test).toBe(true);
        expect(
          readFileSync(file, "utf8"),
          `${claim.test} should contain ${claim.needle}`,
        ).toContain(claim.needle);
      }
    }
  });

  it("names only auraison subcommands and flags that exist", () => {
    const problems = commands.filter((c) => c.startsWith("auraison ")).flatMap(cliProblems);
    expect(problems).toEqual([]);
  });

  it("names only npm scripts that exist, and `npm start` is `auraison dev`", () => {
    const scripts = (
      JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as {
        scripts: Record<string, string>;
      }
    ).scripts;
    for (const command of commands) {
      for (const [, name] of command.matchAll(/npm run ([\w:-]+)/g))
        expect(scripts, name).toHaveProperty(name!);
    }
    expect(scripts.start).toBe("node bin/auraison.js dev");
  });

  it("ships a gateway config example that the CLI accepts", async () => {
    const { readGatewayConfigFile } = await import("../cli/commands/gateway");
    const config = readGatewayConfigFile(join(PROJECT_ROOT, "examples", "gateway.json"), {});
    expect(config.providers?.map((p) => p.kind).sort()).toEqual([
      "anthropic",
      "openai",
      "openai-compatible",
      "workers-ai",
    ]);
  });

  const python = join(PROJECT_ROOT, ".duckdb", "python");
  const hasPython = existsSync(join(python, "duckdb"));

  // CI installs DuckDB's Python package (npm run duckdb:python); elsewhere it is optional.
  it.skipIf(!hasPython && !process.env.CI)(
    "runs the Python and DuckDB SQL snippets against a lake the CLI synced",
    async () => {
      const home = tempDir("auraison-readme-");
      const outbox = join(home, "outbox");
      writeLog(join(outbox, "000000000000.ndjson"), [
        ...syntheticEvents({ events: 2_000, days: 1, seed: 4 }),
      ]);
      const synced = await runCli(
        ["memory", "sync", "--from-dir", outbox, "--lake", join(home, "lake")],
        {
          timeoutMs: 120_000,
        },
      );
      expect(synced.code, synced.stderr).toBe(0);
      const point = (code: string) =>
        code
          .replaceAll(
            "/path/to/auraison/.duckdb/extensions",
            join(PROJECT_ROOT, ".duckdb", "extensions"),
          )
          .replaceAll(".auraison/lake/catalog.sqlite", join(home, "lake", "catalog.sqlite"));
      const snippet = (lang: string) =>
        point(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``).exec(README)![1]!);
      const sqlStatements = snippet("sql")
        .split(";")
        .map((s) => s.trim())
        .filter(Boolean);
      const program = `${snippet("python")}
sql = duckdb.connect()
for statement in ${JSON.stringify(sqlStatements)}:
    result = sql.execute(statement)
print("sql rows", len(result.fetchall()))
`;
      const ran = spawnSync("python3", ["-c", program], {
        encoding: "utf8",
        env: { ...process.env, PYTHONPATH: python },
        timeout: 120_000,
      });
      expect(ran.status, ran.stderr).toBe(0);
      expect(ran.stdout).toMatch(/^\[\('/m);
      expect(ran.stdout).toMatch(/^sql rows \d+$/m);
    },
    180_000,
  );

  it("prints the help the README points to", async () => {
    const help = await runCli(["--help"]);
    expect(help.code).toBe(0);
    for (const name of [
      "dev",
      "edge",
      "intent",
      "runs",
      "agents",
      "keys",
      "gateway",
      "memory",
      "plan",
      "deploy",
    ])
      expect(help.stdout).toContain(name);
  });
});
