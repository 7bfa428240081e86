/**
 * Prints rows as an aligned text table, or as JSON when the user asked for --json. Headers are
 * the column names in capitals unless `rawHeaders` keeps them as they are (a SQL result's
 * columns are names the user wrote or DuckDB chose, such as `count_star()`, and a header
 * should be what a query can refer to).
 */
export function printRows(
  rows: Record<string, unknown>[],
  columns: string[],
  json: boolean,
  options: { rawHeaders?: boolean } = {},
): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  if (rows.length === 0) {
    process.stdout.write("(none)\n");
    return;
  }
  const headers = options.rawHeaders ? columns : columns.map((c) => c.toUpperCase());
  const cells = rows.map((row) => columns.map((c) => cell(row[c])));
  const widths = headers.map((h, i) =>
    cells.reduce((width, r) => Math.max(width, r[i]!.length), h.length),
  );
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  process.stdout.write(`${[line(headers), ...cells.map(line)].join("\n")}\n`);
}

export function printValue(value: unknown, json: boolean): void {
  if (json || typeof value !== "string")
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else process.stdout.write(`${value}\n`);
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return "-";
  if (typeof value === "string") return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(cell).join(",");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
