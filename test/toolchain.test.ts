import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../cli/wrangler";

const manifest = (path: string) =>
  JSON.parse(readFileSync(join(PROJECT_ROOT, path, "package.json"), "utf8")) as {
    version: string;
    dependencies?: Record<string, string>;
  };

/** Where each copy of a package is installed (npm ls: every path, deduplicated or not). */
function installed(name: string): string[] {
  const out = execFileSync("npm", ["ls", name, "--all", "--parseable"], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
  });
  return [...new Set(out.split("\n").filter((line) => line.endsWith(`/node_modules/${name}`)))];
}

describe("the toolchain", () => {
  it("runs on a Node the project supports, also for what npm scripts and tests start by name", () => {
    const engines = (
      JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as {
        engines: { node: string };
      }
    ).engines.node;
    expect(engines).toBe(">=22.19");
    const [neededMajor, neededMinor] = engines.slice(2).split(".").map(Number) as [number, number];
    const supported = (version: string) => {
      const [major, minor] = version.replace(/^v/, "").split(".").map(Number) as [number, number];
      return major > neededMajor || (major === neededMajor && minor >= neededMinor);
    };
    expect(supported(process.version), process.version).toBe(true);
    // `node` on PATH: what npm itself, npm scripts (postinstall) and wrangler's shebang run on.
    const onPath = execFileSync("node", ["--version"], { encoding: "utf8" }).trim();
    expect(supported(onPath), `node on PATH is ${onPath}`).toBe(true);
  });

  it("has one wrangler, one miniflare and one workerd for tests, dev, benchmarks and deploy", () => {
    for (const name of ["wrangler", "miniflare", "workerd"])
      expect(installed(name), name).toEqual([join(PROJECT_ROOT, "node_modules", name)]);
    // The test integration pins its wrangler: the project's must be that one.
    const plugin = manifest("node_modules/@cloudflare/vitest-plugin");
    expect(manifest("node_modules/wrangler").version).toBe(plugin.dependencies?.wrangler);
  });

  it("has one pi: the harness and the packages the edge imports from it agree", () => {
    for (const name of [
      "@earendil-works/pi-coding-agent",
      "@earendil-works/pi-ai",
      "@earendil-works/pi-agent-core",
    ])
      expect(installed(name), name).toHaveLength(1);
  });
});
