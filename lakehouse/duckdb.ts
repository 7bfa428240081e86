import { existsSync } from "node:fs";
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import {
  type ExtensionName,
  extensionDirectory,
  extensionPath,
  INSTALL_COMMAND,
} from "./extensions";

export interface OpenDuckDBOptions {
  /**
   * Database file; default in-memory. The in-memory default is renamed `auraison` so the name
   * `memory` is free for the DuckLake attach (`ATTACH 'ducklake:...' AS memory`).
   */
  path?: string;
  /** Extensions to load now, so a missing one fails here with a clear message. */
  extensions?: readonly ExtensionName[];
  /** Defaults to the project-local directory the install script fills. */
  extensionDirectory?: string;
  /** Extra DuckDB settings (threads, memory_limit, ...). */
  config?: Record<string, string>;
}

export interface DuckDB {
  instance: DuckDBInstance;
  connection: DuckDBConnection;
  extensionDirectory: string;
  close(): void;
}

export class MissingExtensionError extends Error {
  constructor(
    readonly extension: string,
    readonly directory: string,
    cause: unknown,
  ) {
    super(
      `DuckDB extension '${extension}' is not in ${directory} and could not be installed from ` +
        `the internet (${cause instanceof Error ? cause.message : String(cause)}). ` +
        `Install it with: ${INSTALL_COMMAND}`,
    );
    this.name = "MissingExtensionError";
  }
}

/**
 * The one way Auraison opens DuckDB: extensions come from the project-local directory with
 * automatic installation off, so `ducklake:`, `postgres:` and `s3://`/`r2://` autoload from
 * there. A binary that is missing locally is installed the normal way (hosts with internet);
 * failing that, the error names the extension and the command that installs it.
 */
export async function openDuckDB(options: OpenDuckDBOptions = {}): Promise<DuckDB> {
  const dir = options.extensionDirectory ?? extensionDirectory();
  const path = options.path ?? ":memory:";
  const instance = await DuckDBInstance.create(path, {
    extension_directory: dir,
    autoinstall_known_extensions: "false",
    autoload_known_extensions: "true",
    ...options.config,
  });
  const connection = await instance.connect();
  const db: DuckDB = {
    instance,
    connection,
    extensionDirectory: dir,
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
  try {
    if (path === ":memory:") {
      await connection.run("ATTACH ':memory:' AS auraison");
      await connection.run("USE auraison");
      await connection.run("DETACH memory");
    }
    for (const name of options.extensions ?? []) await loadExtension(connection, dir, name);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

async function loadExtension(connection: DuckDBConnection, dir: string, name: ExtensionName) {
  if (!existsSync(extensionPath(dir, name))) {
    try {
      await connection.run(`INSTALL ${name}`);
    } catch (error) {
      throw new MissingExtensionError(name, dir, error);
    }
  }
  await connection.run(`LOAD ${name}`);
}
