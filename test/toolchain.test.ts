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
