import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");
const DEPCRUISE = join(ROOT, "node_modules/dependency-cruiser/bin/dependency-cruiser.mjs");
const CONFIG = join(ROOT, ".dependency-cruiser.cjs");

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

/** Runs dependency-cruiser's CLI with the project's rules; its exit code is the violation count. */
async function violations(cwd: string): Promise<Violation[]> {
  const args = [DEPCRUISE, "contract", "central", "edge", "lakehouse", "cli"];
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [...args, "--config", CONFIG, "--output-type", "json"],
    { cwd, maxBuffer: 64 * 1024 * 1024 },
  ).catch((error: { stdout?: string; stderr?: string }) => {
    if (!error.stdout) throw new Error(`depcruise printed no result: ${error.stderr}`);
    return { stdout: error.stdout };
  });
  return JSON.parse(stdout).summary.violations;
}

describe("architecture (.dependency-cruiser.cjs)", { timeout: 120_000 }, () => {
  it("contract imports nothing of ours, the runtimes import only contract, and nothing cycles", async () => {
    const found = await violations(ROOT);
    expect(found.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)).toEqual([]);
  });

  it("refuses a wrong-way import and an import cycle", async () => {
    const dir = mkdtempSync(join(tmpdir(), "auraison-architecture-"));
    const files: Record<string, string> = {
      "contract/index.ts": 'export { agentId } from "../edge/agent";\n',
      "edge/agent.ts": 'import { later } from "./later";\nexport const agentId = later;\n',
      "edge/later.ts":
        'import { agentId } from "./agent";\nexport const later = String(agentId);\n',
      "central/index.ts": 'export { sync } from "../lakehouse/sync";\n',
      "lakehouse/sync.ts": "export const sync = 1;\n",
      "cli/main.ts": 'export * from "../contract/index";\n',
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    copyFileSync(join(ROOT, "tsconfig.base.json"), join(dir, "tsconfig.base.json"));
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ extends: "./tsconfig.base.json" }));
    const found = await violations(dir);
    expect(new Set(found.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`))).toEqual(
      new Set([
        "contract-imports-nothing-of-ours: contract/index.ts -> edge/agent.ts",
        "central-imports-only-contract: central/index.ts -> lakehouse/sync.ts",
        "no-cycles: edge/agent.ts -> edge/later.ts",
      ]),
    );
  });
});
