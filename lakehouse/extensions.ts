import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The DuckDB release embedded by the pinned @duckdb/node-api; extension binaries must match it. */
export const DUCKDB_VERSION = "v1.5.5";

export interface ExtensionSpec {
  /** The name DuckDB loads it by. */
  name: string;
  /** The binary's file name (without `.duckdb_extension`). */
  file: string;
  /** The PyPI wheel that carries the official binary. */
  wheel: string;
}

export const DUCKDB_EXTENSIONS: readonly ExtensionSpec[] = [
  { name: "ducklake", file: "ducklake", wheel: "duckdb-extension-ducklake" },
  { name: "httpfs", file: "httpfs", wheel: "duckdb-extension-httpfs" },
  {
    name: "postgres_scanner",
    file: "postgres_scanner",
    wheel: "duckdb-extension-postgres-scanner",
  },
  { name: "sqlite_scanner", file: "sqlite_scanner", wheel: "duckdb-extension-sqlite-scanner" },
];

export type ExtensionName = "ducklake" | "httpfs" | "postgres_scanner" | "sqlite_scanner";

export const INSTALL_COMMAND = "npm run duckdb:extensions";

/** DuckDB's platform string for this host, e.g. linux_amd64. */
export function duckdbPlatform(): string {
  const os = { linux: "linux", darwin: "osx", win32: "windows" }[process.platform as string];
  const arch = { x64: "amd64", arm64: "arm64" }[process.arch as string];
  if (!os || !arch)
    throw new Error(`no DuckDB extension builds for ${process.platform}/${process.arch}`);
  return `${os}_${arch}`;
}

/** `AURAISON_DUCKDB_EXTENSIONS`, else `.duckdb/extensions` at the package root. */
export function extensionDirectory(): string {
  return (
    process.env.AURAISON_DUCKDB_EXTENSIONS ??
    fileURLToPath(new URL("../.duckdb/extensions", import.meta.url))
  );
}

export function extensionPath(dir: string, name: string): string {
  const spec = DUCKDB_EXTENSIONS.find((e) => e.name === name);
  return join(dir, DUCKDB_VERSION, duckdbPlatform(), `${spec?.file ?? name}.duckdb_extension`);
}

export function missingExtensions(dir: string = extensionDirectory()): ExtensionSpec[] {
  return DUCKDB_EXTENSIONS.filter((e) => !existsSync(extensionPath(dir, e.name)));
}
