import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../cli/wrangler";
import { copyCheckout } from "../helpers/checkout";
import { runNode } from "../helpers/cli";

/** bin/auraison.js in a copy of the checkout: runs dist/, rebuilt when a source changed. */
let root = "";
beforeAll(() => {
  root = copyCheckout({ nodeModules: "link" });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const node = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runNode(args, { cwd: root, env, timeoutMs: 60_000 });

const version = () => node([join(root, "bin/auraison.js"), "--version"]);
const manifestMtime = () => statSync(join(root, "dist/manifest.json")).mtimeMs;

function edit(file: string, from: string, to: string): void {
  const path = join(root, file);
  const text = readFileSync(path, "utf8");
  expect(text).toContain(from);
  writeFileSync(path, text.replace(from, to));
}

describe("the auraison command's build (bin/build.js)", () => {
  it("builds dist/ at the first start of a checkout without one, then reuses it", async () => {
    const first = await version();
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(first.stdout).toMatch(/^0\.1\.0 \(contract \d+\.\d+\.\d+\)\n$/);
    const built = manifestMtime();
    expect(await version()).toEqual(first);
    expect(manifestMtime()).toBe(built);
    // `node bin/build.js` (npm install runs it) builds nothing either while dist/ is fresh.
    expect((await node(["bin/build.js"])).code).toBe(0);
    expect(manifestMtime()).toBe(built);
  });

  it("runs an edited source, never the stale build", async () => {
    edit("cli/version.ts", "(contract ", "(edited, contract ");
    const result = await version();
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("(edited, contract ");
  });

  it("reads package.json and other files next to the sources from the checkout, not the build", async () => {
    edit("package.json", '"version": "0.1.0"', '"version": "0.1.1"');
    expect((await version()).stdout).toMatch(/^0\.1\.1 /);
  });

  it("serves commands started together after an edit, each with the new build", async () => {
    edit("cli/version.ts", "(edited, ", "(edited twice, ");
    const results = await Promise.all(Array.from({ length: 4 }, () => version()));
    for (const result of results) {
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain("(edited twice, contract ");
    }
    expect(await version()).toEqual(results[0]);
  });

  it("says what is wrong when an edited source does not build, and recovers once it does", async () => {
    edit("cli/version.ts", "export const VERSION =", "export const VERSION ==");
    const broken = await version();
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain("dist/ could not be rebuilt");
    expect(broken.stderr).toContain("cli/version.ts");
    edit("cli/version.ts", "export const VERSION ==", "export const VERSION =");
    expect(await version()).toMatchObject({ code: 0, stderr: "" });
  });

  it("builds the DuckDB extension installer that npm install runs without tsx", async () => {
    // Pointed at this checkout's binaries: the copy has none, and fetching them is not the point.
    const result = await node(["dist/duckdb-extensions.js"], {
      AURAISON_DUCKDB_EXTENSIONS: join(PROJECT_ROOT, ".duckdb/extensions"),
    });
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toMatch(/^duckdb extensions: all \d+ present in /);
  });
});
