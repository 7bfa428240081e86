import { printRows } from "../output";

export type ResultFormat = "table" | "json" | "csv";

/**
 * Prints a query's rows as an aligned table, JSON, or CSV (RFC 4180). `rawHeaders` keeps a
 * table's headers as the columns are named (a user's own SQL), rather than in capitals.
 */
export function printResult(
  result: { columns: string[]; rows: Record<string, unknown>[] },
  format: ResultFormat,
  options: { rawHeaders?: boolean } = {},
): void {
  if (format === "csv") {
    const lines = [result.columns.map(csvCell).join(",")];
    for (const row of result.rows) lines.push(result.columns.map((c) => csvCell(row[c])).join(","));
    process.stdout.write(`${lines.join("\r\n")}\r\n`);
    return;
  }
  printRows(result.rows, result.columns, format === "json", options);
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
