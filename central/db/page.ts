/**
 * What one answer of a list may carry at most: a page of large rows (intents of up to 256 KiB)
 * ends early, and its `next` asks for the rest.
 */
export const PAGE_BYTES = 2 * 1024 * 1024;

const encoder = new TextEncoder();
/** Room kept for the answer around its rows (the list's braces, `next`). */
const ENVELOPE_BYTES = 1024;

/**
 * One page of a list read with `limit + 1` rows (in the list's order): the rows to answer, and
 * the key of the last one as `next` when there are more. With `answered` (what a row is answered
 * as), the page also stops before the row whose JSON would take the answer past PAGE_BYTES, in
 * UTF-8 bytes as sent (it always holds one row).
 */
export function page<T>(
  rows: readonly T[],
  limit: number,
  key: (row: T) => string,
  answered?: (row: T) => unknown,
): { rows: T[]; next: string | null } {
  let shown = rows.slice(0, limit);
  if (answered) {
    let bytes = ENVELOPE_BYTES;
    const fits = shown.findIndex((row, i) => {
      bytes += encoder.encode(JSON.stringify(answered(row))).byteLength + 1;
      return i > 0 && bytes > PAGE_BYTES;
    });
    if (fits >= 0) shown = shown.slice(0, fits);
  }
  return { rows: shown, next: rows.length > shown.length ? key(shown.at(-1)!) : null };
}
