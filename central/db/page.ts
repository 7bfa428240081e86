/**
 * One page of a list read with `limit + 1` rows (newest first): the rows to answer, and the key
 * of the last one as `next` when there are more.
 */
export function page<T>(
  rows: readonly T[],
  limit: number,
  key: (row: T) => string,
): { rows: T[]; next: string | null } {
  const shown = rows.slice(0, limit);
  return { rows: shown, next: rows.length > limit ? key(shown.at(-1)!) : null };
}
