/**
 * Installs the DuckDB extensions Auraison needs into the project-local extension directory,
 * from the official binaries published as PyPI wheels (DuckDB's own downloads are unreachable
 * on offline hosts). A no-op when every binary is already there.
 *
 * Built into dist/ (bin/build.js) so that it runs on an edge host's production install, which has
 * no tsx:
 *
 *   npm run duckdb:extensions                  install (fails loudly)
 *   node dist/duckdb-extensions.js --soft      warn instead of failing (npm postinstall)
 */
import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DUCKDB_EXTENSIONS,
  DUCKDB_VERSION,
  duckdbPlatform,
  extensionDirectory,
  extensionPath,
  missingExtensions,
} from "../lakehouse/extensions";

const soft = process.argv.includes("--soft");
const dir = extensionDirectory();
const missing = missingExtensions(dir);

if (missing.length === 0) {
  console.log(`duckdb extensions: all ${DUCKDB_EXTENSIONS.length} present in ${dir}`);
  process.exit(0);
}

try {
  const platform = duckdbPlatform();
  const work = mkdtempSync(join(tmpdir(), "auraison-duckdb-ext-"));
  try {
    for (const ext of missing) {
      const spec = `${ext.wheel}==${DUCKDB_VERSION.slice(1)}`;
      console.log(`duckdb extensions: fetching ${spec} (${platform})`);
      execFileSync(
        "python3",
        [
          "-m",
          "pip",
          "download",
          "--no-deps",
          "--only-binary=:all:",
          "--dest",
          work,
          "--quiet",
          spec,
        ],
        {
          stdio: ["ignore", "inherit", "inherit"],
        },
      );
      const wheel = readdirSync(work).find(
        (f) => f.startsWith(`${ext.wheel.replace(/-/g, "_")}-`) && f.endsWith(".whl"),
      );
      if (!wheel) throw new Error(`pip did not produce a wheel for ${spec}`);
      const unpacked = join(work, ext.name);
      execFileSync("python3", ["-m", "zipfile", "-e", join(work, wheel), unpacked]);
      const inner = join(
        unpacked,
        ext.wheel.replace(/-/g, "_"),
        "extensions",
        DUCKDB_VERSION,
        `${ext.file}.duckdb_extension`,
      );
      if (!existsSync(inner))
        throw new Error(
          `${wheel} does not contain ${ext.file}.duckdb_extension for ${DUCKDB_VERSION}`,
        );
      const target = extensionPath(dir, ext.name);
      mkdirSync(join(target, ".."), { recursive: true });
      // Copy then rename, so a crash never leaves a half-written binary under the final name.
      copyFileSync(inner, `${target}.partial`);
      renameSync(`${target}.partial`, target);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  console.log(`duckdb extensions: installed ${missing.map((e) => e.name).join(", ")} into ${dir}`);
} catch (error) {
  const message = `duckdb extensions: could not install ${missing.map((e) => e.name).join(", ")}: ${
    error instanceof Error ? error.message : String(error)
  }`;
  if (!soft) {
    console.error(message);
    process.exit(1);
  }
  console.warn(
    `${message}\n(continuing: with internet access DuckDB installs them itself on first use)`,
  );
}
