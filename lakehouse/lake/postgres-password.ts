import { LakeConfigError } from "./config-error";

/**
 * A PostgreSQL catalog's connection string split into the string DuckDB is given and the
 * password, which goes into a DuckDB secret instead (location.ts, `catalogSecret`). DuckDB shows
 * an attached catalog's string to any query (`duckdb_databases()`, `PRAGMA database_list`) and
 * quotes it in its errors; a secret it shows redacted, and `memory sql` cannot ask for it
 * unredacted (that takes a setting, and memory sql runs no SET). DuckDB's postgres extension
 * fills what the string leaves out from the secret, so the catalog connects as before.
 *
 * Read as libpq reads it (fe-connect.c: conninfo_parse, conninfo_uri_parse_options), both forms:
 * `key = value` pairs (a value single-quoted or not, backslash escaping the next character) and a
 * URI (`postgresql://user:pass@host1:5432,host2/db?sslmode=require&password=...`,
 * percent-encoded; it has no fragment, so `#` is an ordinary character). libpq takes the last of
 * a repeated key; so does this. A string this cannot read is refused with why, rather than
 * handed on with its password in it. Hand-written: no maintained package parses both forms
 * back into a string without one key (pg-connection-string reads URIs only, and writes none).
 */
export interface CatalogPassword {
  /** The connection string without its password. */
  connection: string;
  /** The password it held, or null (libpq's PGPASSWORD or ~/.pgpass still apply then). */
  password: string | null;
}

const URI_PREFIX = /^postgres(?:ql)?:\/\//;

/** Splits `connection`; a string libpq would refuse (or this cannot read) is a LakeConfigError. */
export function splitPassword(connection: string): CatalogPassword {
  const prefix = URI_PREFIX.exec(connection);
  return prefix ? fromUri(connection, prefix[0].length) : fromPairs(connection);
}

function refuse(what: string): never {
  throw new LakeConfigError(`the PostgreSQL catalog's connection string: ${what}`);
}

/** C's isspace, as libpq tests it (not JavaScript's \s, which takes Unicode spaces). */
function isSpace(c: string | undefined): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\v" || c === "\f" || c === "\r";
}

/** libpq's conninfo_parse; each pair keeps its text, so the others are handed on unchanged. */
function fromPairs(connection: string): CatalogPassword {
  const kept: string[] = [];
  let password: string | null = null;
  let i = 0;
  const at = (j: number) => connection[j];
  for (;;) {
    while (isSpace(at(i))) i++;
    if (i >= connection.length) break;
    const start = i;
    while (i < connection.length && at(i) !== "=" && !isSpace(at(i))) i++;
    const key = connection.slice(start, i);
    while (isSpace(at(i))) i++;
    if (at(i) !== "=") refuse(`missing "=" after "${key}"`);
    i++;
    while (isSpace(at(i))) i++;
    let value = "";
    if (at(i) === "'") {
      i++;
      for (;;) {
        if (i >= connection.length) refuse(`unterminated quoted value of "${key}"`);
        if (at(i) === "\\") {
          i++;
          if (i < connection.length) value += connection[i++];
        } else if (at(i) === "'") {
          i++;
          break;
        } else value += connection[i++];
      }
    } else {
      while (i < connection.length && !isSpace(at(i))) {
        if (at(i) === "\\") {
          i++;
          if (i < connection.length) value += connection[i++];
        } else value += connection[i++];
      }
    }
    if (key === "password") password = value;
    else kept.push(connection.slice(start, i));
  }
  return password === null ? { connection, password } : { connection: kept.join(" "), password };
}

/**
 * libpq's URI parse. A URI with a password comes back as `key=value` pairs: DuckDB puts the
 * secret's settings before the string it is given, and libpq reads a URI only as a whole string.
 */
function fromUri(connection: string, start: number): CatalogPassword {
  const pairs: [string, string][] = [];
  let password: string | null = null;
  let rest = connection.slice(start);
  // The userinfo ends at the first `@` before any `/`.
  const end = rest.search(/[@/]/);
  if (end >= 0 && rest[end] === "@") {
    const userinfo = rest.slice(0, end);
    const colon = userinfo.indexOf(":");
    const user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
    if (user) pairs.push(["user", decode(user)]);
    if (colon >= 0) password = decode(userinfo.slice(colon + 1));
    rest = rest.slice(end + 1);
  }
  // Hosts, each `host[:port]` or `[v6address][:port]`, up to the path or the query.
  const hosts: string[] = [];
  const ports: string[] = [];
  for (;;) {
    let host: string;
    if (rest.startsWith("[")) {
      const close = rest.indexOf("]");
      if (close < 0) refuse(`unterminated IPv6 address in the URI's host`);
      host = rest.slice(1, close);
      rest = rest.slice(close + 1);
      if (rest && !/^[:/?,]/.test(rest)) refuse(`unexpected "${rest[0]}" after an IPv6 address`);
    } else {
      const stop = rest.search(/[:/?,]/);
      host = stop < 0 ? rest : rest.slice(0, stop);
      rest = stop < 0 ? "" : rest.slice(stop);
    }
    let port = "";
    if (rest.startsWith(":")) {
      const stop = rest.search(/[/?,]/);
      port = stop < 0 ? rest.slice(1) : rest.slice(1, stop);
      rest = stop < 0 ? "" : rest.slice(stop);
    }
    hosts.push(decode(host));
    ports.push(decode(port));
    if (!rest.startsWith(",")) break;
    rest = rest.slice(1);
  }
  if (hosts.some(Boolean)) pairs.push(["host", hosts.join(",")]);
  if (ports.some(Boolean)) pairs.push(["port", ports.join(",")]);
  if (rest.startsWith("/")) {
    const stop = rest.indexOf("?");
    const database = stop < 0 ? rest.slice(1) : rest.slice(1, stop);
    if (database) pairs.push(["dbname", decode(database)]);
    rest = stop < 0 ? "" : rest.slice(stop);
  }
  if (rest.startsWith("?")) {
    for (const parameter of rest.slice(1).split("&")) {
      const eq = parameter.indexOf("=");
      if (eq < 0) refuse(`missing "=" in the URI's query parameter "${decode(parameter)}"`);
      if (parameter.indexOf("=", eq + 1) >= 0)
        refuse(`a second "=" in the URI's query parameter "${decode(parameter.slice(0, eq))}"`);
      const key = decode(parameter.slice(0, eq));
      const value = decode(parameter.slice(eq + 1));
      if (key === "password") password = value;
      // libpq's one alias in URIs, for JDBC's: as a key=value pair it is no option at all.
      else if (key === "ssl" && value === "true") pairs.push(["sslmode", "require"]);
      else pairs.push([key, value]);
    }
  } else if (rest) refuse(`unexpected "${rest[0]}" in the URI`);
  if (password === null) return { connection, password };
  const quote = (value: string) => `'${value.replace(/['\\]/g, "\\$&")}'`;
  return { connection: pairs.map(([k, v]) => `${k}=${quote(v)}`).join(" "), password };
}

/** libpq's percent-decoding (`%` and two hex digits; `%00` refused), read as UTF-8. */
function decode(text: string): string {
  if (!text.includes("%")) return text;
  const bytes: number[] = [];
  const raw = new TextEncoder().encode(text);
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== 0x25) {
      bytes.push(raw[i]!);
      continue;
    }
    const hex = String.fromCharCode(raw[i + 1] ?? 0, raw[i + 2] ?? 0);
    if (!/^[0-9a-fA-F]{2}$/.test(hex)) refuse("an invalid percent-encoded token in the URI");
    const byte = Number.parseInt(hex, 16);
    if (byte === 0) refuse("a forbidden %00 in the URI");
    bytes.push(byte);
    i += 2;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array(bytes));
  } catch {
    return refuse("a percent-encoded value that is not UTF-8 (give the password with PGPASSWORD)");
  }
}
