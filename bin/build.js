// @ts-check
/**
 * Builds dist/ from the TypeScript sources: the CLI (cli/main.ts) and the DuckDB extension
 * installer (scripts/duckdb-extensions.ts), bundled by esbuild into ES modules for Node, split
 * so that what a command loads lazily (pi, DuckDB) stays out of start-up. npm packages stay
 * external (node_modules), so a bundle holds only this repository's code.
 *
 * dist/manifest.json records every source a build read and its mtime: `builtEntry()` (what
 * bin/auraison.js calls) rebuilds first when one changed, so a checkout being edited never runs
 * a stale build. Writes are atomic (temp file, rename) and chunk names carry their content's
 * hash, so concurrent builds and commands started during one always see a whole build.
 *
 *   node bin/build.js          build when a source changed (npm install runs it)
 *   node bin/build.js --force  build
 */
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DIST = join(ROOT, "dist");
const MANIFEST = join(DIST, "manifest.json");
const ENTRIES = {
  cli: "cli/main.ts",
  "duckdb-extensions": "scripts/duckdb-extensions.ts",
  // A worker thread's module, loaded by URL (lakehouse/projection/validate-pool.ts).
  "validate-worker": "lakehouse/projection/validate-worker.ts",
};
/** Files that change how sources compile without being sources themselves. */
const CONFIG_INPUTS = ["bin/build.js", "tsconfig.json", "tsconfig.base.json", "package.json"];
/** Outputs no build has used for this long are removed (a running process may still load one). */
const PRUNE_AFTER_MS = 24 * 60 * 60 * 1000;
const FORMAT = 1;

/**
 * @typedef {{ format: number, inputs: Record<string, number>, outputs: string[] }} Manifest
 */

/** The file URL of a built entry point (`cli`, `duckdb-extensions`), rebuilding when stale. */
export async function builtEntry(/** @type {keyof typeof ENTRIES} */ name) {
  if (!isFresh(readManifest())) await build();
  return pathToFileURL(join(DIST, `${name}.js`)).href;
}

/** @returns {Manifest | null} */
function readManifest() {
  try {
    return JSON.parse(readFileSync(MANIFEST, "utf8"));
  } catch {
    return null;
  }
}

/** Fresh when every input still has the mtime the build saw (about 1 ms for ~200 files). */
function isFresh(/** @type {Manifest | null} */ manifest) {
  if (manifest?.format !== FORMAT) return false;
  for (const [file, mtime] of Object.entries(manifest.inputs)) {
    try {
      if (statSync(join(ROOT, file)).mtimeMs !== mtime) return false;
    } catch {
      return false;
    }
  }
  return true;
}

export async function build() {
  const esbuild = await import("esbuild");
  const startedAt = Date.now();
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: ENTRIES,
    outdir: DIST,
    // Every output sits directly in dist/, which `sourceLocation` relies on.
    chunkNames: "[name]-[hash]",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node22",
    packages: "external",
    sourcemap: "linked",
    metafile: true,
    write: false,
    logLevel: "warning",
    plugins: [sourceLocation],
  });
  const outputs = result.outputFiles.map((file) => relative(DIST, file.path));
  // Chunks first, entry points next, the manifest last: a reader never sees a half build.
  const entry = new Set(Object.keys(ENTRIES).flatMap((name) => [`${name}.js`, `${name}.js.map`]));
  const order = (/** @type {{ path: string }} */ file) =>
    entry.has(relative(DIST, file.path)) ? 1 : 0;
  for (const file of [...result.outputFiles].sort((a, b) => order(a) - order(b)))
    writeAtomic(file.path, file.contents);
  /** @type {Record<string, number>} */
  const inputs = {};
  for (const file of [...Object.keys(result.metafile.inputs), ...CONFIG_INPUTS]) {
    const mtime = statSync(join(ROOT, file)).mtimeMs;
    // Edited while the build read it: record a time no file has, so the next start rebuilds.
    inputs[file] = mtime >= startedAt ? -1 : mtime;
  }
  /** @type {Manifest} */
  const manifest = { format: FORMAT, inputs, outputs };
  writeAtomic(MANIFEST, `${JSON.stringify(manifest, null, 1)}\n`);
  prune(new Set([...outputs, "manifest.json"]));
}

/**
 * Keeps `import.meta.url` meaning the source file's URL, as it does under tsx and vitest: code
 * finds package.json, wrangler.toml or .duckdb/ relative to itself. Every output is one level
 * below the root (dist/<file>.js), so the source's URL is `../<source path>` from there.
 * @type {import("esbuild").Plugin}
 */
const sourceLocation = {
  name: "source-location",
  setup(builder) {
    builder.onLoad({ filter: /\.ts$/ }, (args) => {
      const source = readFileSync(args.path, "utf8");
      if (!source.includes("import.meta.url")) return undefined;
      const url = `new URL(${JSON.stringify(`../${relative(ROOT, args.path)}`)}, import.meta.url).href`;
      return { contents: source.replaceAll("import.meta.url", url), loader: "ts" };
    });
  },
};

function writeAtomic(/** @type {string} */ path, /** @type {string | Uint8Array} */ contents) {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, contents);
  renameSync(temp, path);
}

/** Marks this build's outputs as in use and removes outputs no build has used for a day. */
function prune(/** @type {Set<string>} */ current) {
  const now = new Date();
  for (const entry of readdirSync(DIST, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const name = relative(DIST, path);
    try {
      if (current.has(name)) utimesSync(path, now, now);
      else if (now.getTime() - statSync(path).mtimeMs > PRUNE_AFTER_MS)
        rmSync(path, { force: true });
    } catch (error) {
      // Another build renamed its temp file away meanwhile.
      if (/** @type {NodeJS.ErrnoException} */ (error).code !== "ENOENT") throw error;
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes("--force") || !isFresh(readManifest())) await build();
}
