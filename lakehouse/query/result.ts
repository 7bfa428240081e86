import {
  DuckDBArrayType,
  DuckDBArrayValue,
  type DuckDBConnection,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBListType,
  DuckDBListValue,
  DuckDBMapType,
  DuckDBMapValue,
  DuckDBStructType,
  DuckDBStructValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTypeId,
  DuckDBUnionType,
  DuckDBUnionValue,
  type DuckDBValue,
  type DuckDBValueConverter,
  fromVariantValue,
} from "@duckdb/node-api";

/** A query's answer in plain JSON-safe values: numbers, strings, booleans, arrays, objects. */
export interface QueryResult {
  columns: string[];
  types: string[];
  rows: Record<string, unknown>[];
}

/** What a DuckDB value becomes: exactly what JSON can carry, so JSON, CSV and a table agree. */
type PlainValue = null | boolean | number | string | PlainValue[] | { [key: string]: PlainValue };

/**
 * Runs a query and converts its rows to plain values, reading each value by its column's
 * position and type (nested values by their element types), never by name:
 *
 * - Columns with the same name (`SELECT r.status, t.status`) are renamed as DuckDB names them
 *   in CREATE TABLE AS (`status`, `status_1`), so each keeps its own value and its header is
 *   a name a query over this one could use.
 * - BIGINT, HUGEINT, UBIGINT, UHUGEINT: numbers, or decimal strings past 2^53. DECIMAL: a
 *   number when that number's JSON text is the same decimal, else the exact decimal string.
 * - DOUBLE, FLOAT: numbers; NaN, Infinity, -Infinity as those strings (JSON has no such
 *   numbers, and null must stay SQL NULL).
 * - TIMESTAMP, TIMESTAMPTZ (and _S/_MS/_NS): ISO strings to the millisecond (`…T10:00:00.000Z`);
 *   infinite ones "infinity"/"-infinity"; ones past JS Date's range in DuckDB's own text.
 * - DATE: "YYYY-MM-DD" (or "infinity"/"-infinity"). TIME: "HH:MM:SS[.ffffff]"; TIMETZ adds
 *   its offset ("12:34:56+02"), which is part of the value.
 * - INTERVAL, BIT, UUID: DuckDB's own text ("1 day 02:00:00").
 * - BLOB (and GEOMETRY's WKB): DuckDB's BLOB-to-VARCHAR text, printable ASCII as is and other
 *   bytes (and quotes) escaped: '\xAA\xBB' is the 8 characters `\xAA\xBB`.
 * - LIST, ARRAY: arrays; STRUCT: objects; MAP: [{ key, value }]; UNION: { tag, value }.
 */
export async function readQuery(
  connection: DuckDBConnection,
  sql: string,
  values?: DuckDBValue[] | Record<string, DuckDBValue>,
): Promise<QueryResult> {
  const reader = await connection.runAndReadAll(sql, values);
  const columns = uniqueNames(reader.columnNames());
  const rows = reader.convertRows(plain).map((values) => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < columns.length; i++) setKey(out, columns[i]!, values[i] ?? null);
    return out;
  });
  return { columns, types: reader.columnTypes().map((t) => t.toString()), rows };
}

/**
 * DuckDB's own renaming of repeated column names (QueryResult::DeduplicateColumns, as used by
 * CREATE TABLE AS): the second `a` becomes `a_1`, skipping any name already taken, compared
 * case-insensitively (ASCII only) as DuckDB compares identifiers.
 */
function uniqueNames(names: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((name) => {
    const lower = asciiLower(name);
    let count = seen.get(lower);
    if (count === undefined) {
      seen.set(lower, 1);
      return name;
    }
    let renamed = `${name}_${count}`;
    while (seen.has(asciiLower(renamed))) {
      count++;
      renamed = `${name}_${count}`;
    }
    seen.set(lower, count);
    seen.set(asciiLower(renamed), 1);
    return renamed;
  });
}

function asciiLower(name: string): string {
  return name.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

// A column or struct field may be called __proto__; plain assignment would drop it.
function setKey(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__")
    Object.defineProperty(out, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  else out[key] = value;
}

const plain: DuckDBValueConverter<PlainValue> = (value, type, self) => {
  if (value === null || value === undefined) return null;
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.ENUM:
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
      return value as boolean | number | string;
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return Number.isFinite(value) ? (value as number) : String(value);
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
      return typeof value === "bigint" ? integer(value) : other(value);
    case DuckDBTypeId.DECIMAL:
      return value instanceof DuckDBDecimalValue ? decimal(value) : other(value);
    case DuckDBTypeId.DATE:
      return value instanceof DuckDBDateValue ? date(value) : other(value);
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return value instanceof DuckDBTimestampValue || value instanceof DuckDBTimestampTZValue
        ? timestamp(value.micros, value)
        : other(value);
    case DuckDBTypeId.TIMESTAMP_S:
      return value instanceof DuckDBTimestampSecondsValue
        ? iso(value.seconds * 1000n, value)
        : other(value);
    case DuckDBTypeId.TIMESTAMP_MS:
      return value instanceof DuckDBTimestampMillisecondsValue
        ? iso(value.millis, value)
        : other(value);
    case DuckDBTypeId.TIMESTAMP_NS:
      return value instanceof DuckDBTimestampNanosecondsValue
        ? iso(floorDiv(value.nanos, 1_000_000n), value)
        : other(value);
    case DuckDBTypeId.LIST:
      return value instanceof DuckDBListValue && type instanceof DuckDBListType
        ? value.items.map((v) => self(v, type.valueType, self))
        : other(value);
    case DuckDBTypeId.ARRAY:
      return value instanceof DuckDBArrayValue && type instanceof DuckDBArrayType
        ? value.items.map((v) => self(v, type.valueType, self))
        : other(value);
    case DuckDBTypeId.STRUCT: {
      if (!(value instanceof DuckDBStructValue && type instanceof DuckDBStructType))
        return other(value);
      const out: { [key: string]: PlainValue } = {};
      for (const key in value.entries)
        setKey(out, key, self(value.entries[key] ?? null, type.typeForEntry(key), self));
      return out;
    }
    case DuckDBTypeId.MAP:
      return value instanceof DuckDBMapValue && type instanceof DuckDBMapType
        ? value.entries.map((e) => ({
            key: self(e.key, type.keyType, self),
            value: self(e.value, type.valueType, self),
          }))
        : other(value);
    case DuckDBTypeId.UNION:
      return value instanceof DuckDBUnionValue && type instanceof DuckDBUnionType
        ? { tag: value.tag, value: self(value.value, type.memberTypeForTag(value.tag), self) }
        : other(value);
    case DuckDBTypeId.VARIANT:
      return fromVariantValue(value, type, self);
    case DuckDBTypeId.SQLNULL:
      return null;
    default:
      // TIME, TIMETZ, TIME_NS, INTERVAL, BLOB, BIT, UUID, GEOMETRY: their toString is DuckDB's text.
      return other(value);
  }
};

function other(value: DuckDBValue): PlainValue {
  if (typeof value === "bigint") return integer(value);
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (typeof value === "object" && value !== null) return String(value);
  return value;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function integer(value: bigint): number | string {
  return value <= MAX_SAFE && value >= -MAX_SAFE ? Number(value) : value.toString();
}

// Fewer than 16 significant digits always come back from a double as they went in.
const EXACT_DIGITS = 10n ** 15n;

function decimal(value: DuckDBDecimalValue): number | string {
  const text = value.toString();
  const n = Number(text);
  if (value.value < EXACT_DIGITS && value.value > -EXACT_DIGITS) return n;
  return Number.isFinite(n) && canonical(String(n)) === canonical(text) ? n : text;
}

/** A decimal numeral as sign, digits and exponent, so "1.50", "15e-1" and "1.5" compare equal. */
function canonical(text: string): string {
  const negative = text.startsWith("-");
  const [mantissa = "", exponent = "0"] = (negative ? text.slice(1) : text).split(/e/i);
  const [whole = "", fraction = ""] = mantissa.split(".");
  let digits = (whole + fraction).replace(/^0+/, "");
  if (digits === "") return "0";
  let power = Number(exponent) - fraction.length;
  const trimmed = digits.replace(/0+$/, "");
  power += digits.length - trimmed.length;
  digits = trimmed;
  return `${negative ? "-" : ""}${digits}e${power}`;
}

function date(value: DuckDBDateValue): string {
  if (value.days === DuckDBDateValue.PosInf.days) return "infinity";
  if (value.days === DuckDBDateValue.NegInf.days) return "-infinity";
  return value.toString();
}

function timestamp(micros: bigint, value: DuckDBTimestampValue | DuckDBTimestampTZValue): string {
  if (micros === DuckDBTimestampValue.PosInf.micros) return "infinity";
  if (micros === DuckDBTimestampValue.NegInf.micros) return "-infinity";
  return iso(floorDiv(micros, 1000n), value);
}

const MAX_DATE_MS = 8_640_000_000_000_000n;

function iso(millis: bigint, value: { toString(): string }): string {
  if (millis > MAX_DATE_MS || millis < -MAX_DATE_MS) return value.toString();
  return new Date(Number(millis)).toISOString();
}

// Rounds toward minus infinity, so a time before 1970 is not pushed into the next millisecond.
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b < 0n ? q - 1n : q;
}
