import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { printResult, type ResultFormat } from "../../../cli/memory/print";
import { readQuery, runSql } from "../../../lakehouse";
import { runCli } from "../../helpers/cli";
import { localLake, tempDir, withLake } from "../fixture";

let instance: DuckDBInstance;
let connection: DuckDBConnection;

beforeAll(async () => {
  instance = await DuckDBInstance.create(":memory:");
  connection = await instance.connect();
});

afterAll(() => {
  connection.closeSync();
  instance.closeSync();
});

const read = (sql: string) => readQuery(connection, sql);
const only = async (sql: string) => Object.values((await read(sql)).rows[0]!);

/** What `memory sql` prints for a result, in each of its formats. */
function printed(result: Parameters<typeof printResult>[0], format: ResultFormat): string {
  let out = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  try {
    printResult(result, format, { rawHeaders: true });
  } finally {
    vi.restoreAllMocks();
  }
  return out;
}

describe("columns with the same name", () => {
  it("each keep their own value, under the names DuckDB gives them in CREATE TABLE AS", async () => {
    expect(await read("SELECT 1 AS a, 2 AS a")).toEqual({
      columns: ["a", "a_1"],
      types: ["INTEGER", "INTEGER"],
      rows: [{ a: 1, a_1: 2 }],
    });
    // Names already taken are skipped, and DuckDB compares them case-insensitively.
    for (const select of [
      "SELECT 1 AS a, 2 AS a, 3 AS a, 4 AS a_1",
      'SELECT 1 AS a, 2 AS "A", 3 AS a_1, 4 AS a',
      "SELECT 1 AS a_1, 2 AS a, 3 AS a",
      "SELECT 1 AS a, 2 AS a, 3 AS a_2, 4 AS a, 5 AS a",
      'SELECT 1 AS "A", 2 AS a, 3 AS "a_1", 4 AS "A_1"',
      'SELECT 1 AS "É", 2 AS "é", 3 AS "É"',
    ]) {
      await connection.run(`CREATE OR REPLACE TABLE named AS ${select}`);
      const described = await read("SELECT column_name FROM (DESCRIBE named)");
      const result = await read(select);
      expect(result.columns, select).toEqual(described.rows.map((r) => r.column_name));
      expect(Object.values(result.rows[0]!), select).toEqual(result.columns.map((_, i) => i + 1));
    }
  });

  it("a join's columns of one name each show their own table's value, as a table, CSV and JSON", async () => {
    await connection.run(
      "CREATE OR REPLACE TABLE runs AS SELECT 'r1' AS run_id, 'failed' AS status",
    );
    await connection.run(
      "CREATE OR REPLACE TABLE tool_calls AS SELECT 'r1' AS run_id, 'ok' AS status",
    );
    const result = await read(
      "SELECT r.status, t.status FROM runs r JOIN tool_calls t ON t.run_id = r.run_id",
    );
    expect(result.columns).toEqual(["status", "status_1"]);
    expect(result.rows).toEqual([{ status: "failed", status_1: "ok" }]);
    expect(printed(result, "table")).toBe("status  status_1\nfailed  ok\n");
    expect(printed(result, "csv")).toBe("status,status_1\r\nfailed,ok\r\n");
    expect(JSON.parse(printed(result, "json"))).toEqual([{ status: "failed", status_1: "ok" }]);
  });

  it("through runSql on a lake", async () => {
    const rows = await withLake(
      localLake(),
      async (lake) =>
        (
          await runSql(
            lake,
            "SELECT r.status, t.status FROM (VALUES ('failed')) r(status), (VALUES ('ok')) t(status)",
          )
        ).rows,
    );
    expect(rows).toEqual([{ status: "failed", status_1: "ok" }]);
  });

  it("through `auraison memory sql`, in all three outputs", async () => {
    const dir = tempDir("auraison-lake-");
    await withLake(localLake(dir), async () => {});
    const sql = (...flags: string[]) =>
      runCli(["memory", "--lake", dir, "sql", "SELECT 1 AS a, 2 AS a", ...flags], {
        env: { AURAISON_HOME: tempDir("auraison-home-") },
        timeoutMs: 60_000,
      });
    const [table, csv, json] = await Promise.all([sql(), sql("--csv"), sql("--json")]);
    for (const r of [table, csv, json]) expect(r.code, r.stderr).toBe(0);
    expect(table.stdout).toBe("a  a_1\n1  2\n");
    expect(csv.stdout).toBe("a,a_1\r\n1,2\r\n");
    expect(JSON.parse(json.stdout)).toEqual([{ a: 1, a_1: 2 }]);
  }, 120_000);

  it("keeps a column called __proto__", async () => {
    const result = await read("SELECT 1 AS __proto__, 2 AS b");
    expect(JSON.stringify(result.rows)).toBe('[{"__proto__":1,"b":2}]');
    expect(printed(result, "csv")).toBe("__proto__,b\r\n1,2\r\n");
  });
});

describe("values as DuckDB means them", () => {
  it("TIME and TIMETZ as clock times, not microseconds", async () => {
    expect(
      await only(
        "SELECT TIME '12:34:56', TIME '12:34:56.123456', TIME '00:00:00.5', TIMETZ '12:34:56+02', TIMETZ '01:02:03.25-05:30'",
      ),
    ).toEqual(["12:34:56", "12:34:56.123456", "00:00:00.5", "12:34:56+02", "01:02:03.25-05:30"]);
  });

  it("BLOB as DuckDB prints it, not as an object of bytes", async () => {
    expect(
      await only("SELECT '\\xAA\\xBB'::BLOB, 'abc'::BLOB, 'a''b\"c'::BLOB, [''::BLOB]"),
    ).toEqual(["\\xAA\\xBB", "abc", "a\\x27b\\x22c", [""]]);
  });

  it("DATE as YYYY-MM-DD wherever it is nested", async () => {
    expect(
      await only(
        `SELECT DATE '2026-01-02', [DATE '2026-01-02', NULL], {'d': DATE '2026-01-02'},
           MAP {DATE '2026-01-02': [DATE '2026-01-03']}, [DATE '2026-01-02']::DATE[1],
           [{'ds': [DATE '2026-01-02']}]`,
      ),
    ).toEqual([
      "2026-01-02",
      ["2026-01-02", null],
      { d: "2026-01-02" },
      [{ key: "2026-01-02", value: ["2026-01-03"] }],
      ["2026-01-02"],
      [{ ds: ["2026-01-02"] }],
    ]);
  });

  it("TIMESTAMP and TIMESTAMPTZ as ISO strings to the millisecond, nested too", async () => {
    expect(
      await only(
        `SELECT TIMESTAMP '2026-01-02 03:04:05.123456', TIMESTAMPTZ '2026-01-02 03:04:05+00',
           [TIMESTAMP '2026-01-02 03:04:05'], {'t': TIMESTAMPTZ '2026-01-02 03:04:05+00'},
           TIMESTAMP_MS '2026-01-02 03:04:05.123', TIMESTAMP_NS '2026-01-02 03:04:05.123456789'`,
      ),
    ).toEqual([
      "2026-01-02T03:04:05.123Z",
      "2026-01-02T03:04:05.000Z",
      ["2026-01-02T03:04:05.000Z"],
      { t: "2026-01-02T03:04:05.000Z" },
      "2026-01-02T03:04:05.123Z",
      "2026-01-02T03:04:05.123Z",
    ]);
  });

  it("a time before 1970 keeps its millisecond rather than rounding up into the next", async () => {
    expect(await only("SELECT TIMESTAMP '1969-12-31 23:59:59.9995'")).toEqual([
      "1969-12-31T23:59:59.999Z",
    ]);
  });

  it("infinite TIMESTAMP, TIMESTAMPTZ and DATE as infinity and -infinity, not a failed query", async () => {
    expect(
      await only(
        `SELECT 'infinity'::TIMESTAMP, '-infinity'::TIMESTAMP, 'infinity'::TIMESTAMPTZ,
           ['-infinity'::TIMESTAMPTZ], 'infinity'::DATE, ['-infinity'::DATE]`,
      ),
    ).toEqual(["infinity", "-infinity", "infinity", ["-infinity"], "infinity", ["-infinity"]]);
  });

  it("DECIMAL as a number only when the number is the same decimal, else its exact digits", async () => {
    expect(
      await only(
        `SELECT 123456789012345678.12::DECIMAL(38,2), -123456789012345678.12::DECIMAL(38,2),
           1.50::DECIMAL(10,2), 0.1::DECIMAL(18,1), 0.1234567890123456::DECIMAL(20,16),
           10000000000000000000000000::DECIMAL(38,0), 1234567890123456.7::DECIMAL(20,1),
           [123456789012345678.12::DECIMAL(38,2)], 0::DECIMAL(38,10)`,
      ),
    ).toEqual([
      "123456789012345678.12",
      "-123456789012345678.12",
      1.5,
      0.1,
      0.1234567890123456,
      1e25,
      "1234567890123456.7",
      ["123456789012345678.12"],
      0,
    ]);
  });

  it("NaN and infinities as strings, so JSON tells them from NULL", async () => {
    const values = await only(
      `SELECT 'nan'::DOUBLE, 'inf'::DOUBLE, '-inf'::DOUBLE, 'nan'::FLOAT, '-inf'::FLOAT,
         NULL::DOUBLE, 1.5::DOUBLE, ['inf'::DOUBLE, 2]`,
    );
    expect(values).toEqual([
      "NaN",
      "Infinity",
      "-Infinity",
      "NaN",
      "-Infinity",
      null,
      1.5,
      ["Infinity", 2],
    ]);
    expect(JSON.parse(JSON.stringify(values))).toEqual(values);
  });

  it("INTERVAL as DuckDB's text", async () => {
    expect(
      await only(
        "SELECT INTERVAL 1 DAY + INTERVAL 2 HOUR, INTERVAL 14 MONTH, INTERVAL 90 MINUTE, -INTERVAL 3 SECOND",
      ),
    ).toEqual(["1 day 02:00:00", "1 year 2 months", "01:30:00", "-00:00:03"]);
  });

  it("wide integers as numbers while exact, decimal strings past 2^53", async () => {
    expect(
      await only(
        `SELECT 9007199254740991::BIGINT, 9007199254740993::BIGINT, -9007199254740993::BIGINT,
           5::HUGEINT, 170141183460469231731687303715884105727::HUGEINT, 7::UBIGINT,
           18446744073709551615::UBIGINT, 340282366920938463463374607431768211455::UHUGEINT`,
      ),
    ).toEqual([
      9007199254740991,
      "9007199254740993",
      "-9007199254740993",
      5,
      "170141183460469231731687303715884105727",
      7,
      "18446744073709551615",
      "340282366920938463463374607431768211455",
    ]);
  });

  it("other types as text DuckDB would print", async () => {
    expect(
      await only(
        "SELECT '0101'::BIT, '00000000-0000-0000-0000-000000000001'::UUID, union_value(k := 1)",
      ),
    ).toEqual(["0101", "00000000-0000-0000-0000-000000000001", { tag: "k", value: 1 }]);
  });

  it("prints the converted values in CSV and a table as they are in JSON", async () => {
    const result = await read(
      "SELECT TIME '12:34:56' AS t, 'nan'::DOUBLE AS d, [DATE '2026-01-02'] AS ds, '\\xAA'::BLOB AS b",
    );
    expect(printed(result, "csv")).toBe('t,d,ds,b\r\n12:34:56,NaN,"[""2026-01-02""]",\\xAA\r\n');
    expect(printed(result, "table").split("\n")[1]).toBe("12:34:56  NaN  2026-01-02  \\xAA");
  });

  it("reads thousands of rows quickly", async () => {
    const started = performance.now();
    const { rows } = await read(
      `SELECT i, i::DECIMAL(18,2) AS dec, TIMESTAMP '2026-01-01' + to_seconds(i) AS ts,
         [DATE '2026-01-01' + i::INTEGER] AS ds, 'x' || i AS s FROM range(20000) t(i)`,
    );
    expect(rows).toHaveLength(20_000);
    expect(rows[19_999]).toEqual({
      i: 19_999,
      dec: 19_999,
      ts: "2026-01-01T05:33:19.000Z",
      ds: ["2080-10-03"],
      s: "x19999",
    });
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
