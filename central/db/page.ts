/**
 * What one answer of a list may carry at most: a page of large rows (intents of up to 256 KiB)
 * ends early, and its `next` asks for the rest.
 */
export const PAGE_BYTES = 2 * 1024 * 1024;

/**
 * One page of a list read with `limit + 1` rows (in the list's order): the rows to answer, and
 * the key of the last one as `next` when there are more. With `size`, the page also stops before
 * the row that would take it past PAGE_BYTES (it always holds one row).
 */
export function page<T>(
  rows: readonly T[],
  limit: number,
  key: (row: T) => string,
  size?: (row: T) => number,
): { rows: T[]; next: string | null } {
  let shown = rows.slice(0, limit);
  if (size) {
    let bytes = 0;
    const fits = shown.findIndex((row, i) => {
      bytes += size(row);
      return i > 0 && bytes > PAGE_BYTES;
    });
    if (fits >= 0) shown = shown.slice(0, fits);
  }
  return { rows: shown, next: rows.length > shown.length ? key(shown.at(-1)!) : null };
}
