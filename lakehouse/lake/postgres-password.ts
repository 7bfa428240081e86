/**
 * A PostgreSQL catalog's connection string split into the string DuckDB is given and the
 * password, which goes into a DuckDB secret instead (open.ts). DuckDB shows an attached
 * catalog's string to any query (`duckdb_databases()`, `PRAGMA database_list`) and quotes it in
 * its errors; a secret it shows redacted, and `memory sql` cannot ask for it unredacted (that
 * takes a setting, and memory sql runs no SET). DuckDB's postgres extension fills what the
 * string leaves out from the default postgres secret, so the catalog connects as before.
 *
 * Both of libpq's forms are read: `key=value` pairs (`password = 'it\'s'`, quoted or not, with
 * backslash escapes) and a URI (`postgresql://user:pass@host/db?password=...`, percent-encoded).
 * libpq takes the last of a repeated key; so does this. libpq parses, not a library: no
 * maintained package parses conninfo strings back into a string without a key (pg-connection-
 * string reads URIs only, and does not write them).
 */
export interface CatalogPassword {
  /** The connection string without its password. */
  connection: string;
  /** The password it held, or null (libpq's PGPASSWORD or ~/.pgpass still apply then). */
  password: string | null;
}

const URI = /^(postgres(?:ql)?:\/\/)([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/s;

export function splitPassword(connection: string): CatalogPassword {
  const uri = URI.exec(connection);
  return uri ? fromUri(connection, uri) : fromPairs(connection);
}

/**
 * A URI with a password comes back as `key=value` pairs: DuckDB puts the secret's settings
 * before the string it is given, and libpq reads a URI only as a whole string.
 */
function fromUri(
  connection: string,
  [, , authority, path, query]: RegExpExecArray,
): CatalogPassword {
  const pairs: [string, string][] = [];
  let password: string | null = null;
  let hosts = authority!;
  // The userinfo ends at the authority's last `@`: a percent-encoded password holds none, but
  // a raw one might.
  const at = hosts.lastIndexOf("@");
  if (at >= 0) {
    const userinfo = hosts.slice(0, at);
    hosts = hosts.slice(at + 1);
    const colon = userinfo.indexOf(":");
    const user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
    if (user) pairs.push(["user", decode(user)]);
    if (colon >= 0) password = decode(userinfo.slice(colon + 1));
  }
  if (hosts) {
    // `host1:5432,[::1]:5433`: libpq takes comma-separated lists of hosts and of ports.
    const list = hosts.split(",").map((h) => /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(h)!);
    const names = list.map(([, host]) => decode(host!.replace(/^\[(.*)\]$/, "$1")));
    const ports = list.map(([, , port]) => port ?? "");
    if (names.some(Boolean)) pairs.push(["host", names.join(",")]);
    if (ports.some(Boolean)) pairs.push(["port", ports.join(",")]);
  }
  const database = path!.replace(/^\//, "");
  if (database) pairs.push(["dbname", decode(database)]);
  for (const parameter of (query ?? "").slice(1).split("&")) {
    if (!parameter) continue;
    const eq = parameter.indexOf("=");
    const key = decode(eq >= 0 ? parameter.slice(0, eq) : parameter);
    const value = eq >= 0 ? decode(parameter.slice(eq + 1)) : "";
    if (key === "password") password = value;
    else pairs.push([key, value]);
  }
  if (password === null) return { connection, password };
  const quote = (value: string) => `'${value.replace(/['\\]/g, "\\$&")}'`;
  return { connection: pairs.map(([k, v]) => `${k}=${quote(v)}`).join(" "), password };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    // Not valid percent-encoding: libpq refuses it too, so the connection fails and says why.
    return text;
  }
}

/** libpq's `key = value` pairs: the value quoted ('...', `\'` and `\\` escaped) or a word. */
const PAIR = /(\s*)([^\s=]+)\s*=\s*(?:'((?:\\[\s\S]|[^'\\])*)'|((?:\\[\s\S]|[^\s\\])*))/gy;

function fromPairs(connection: string): CatalogPassword {
  let password: string | null = null;
  const kept: string[] = [];
  PAIR.lastIndex = 0;
  let end = 0;
  for (let pair = PAIR.exec(connection); pair; pair = PAIR.exec(connection)) {
    end = PAIR.lastIndex;
    const [whole, , key, quoted, bare] = pair;
    if (key === "password") password = (quoted ?? bare ?? "").replace(/\\([\s\S])/g, "$1");
    else kept.push(whole.trim());
  }
  // Anything the pairs do not account for (an unterminated quote, a key without `=`): left to
  // libpq, which says what is wrong; the password is not taken out of a string it cannot read.
  if (password === null || connection.slice(end).trim()) return { connection, password: null };
  return { connection: kept.join(" "), password };
}
