const NEWLINE = 0x0a;

export interface Line {
  text: string;
  /** 1-based line number in the file. */
  line: number;
}

export interface LineSlice {
  lines: Line[];
  /** Offset just after the last complete line taken. */
  end: number;
  /** Line number of the last complete line taken (or `firstLine - 1`). */
  lastLine: number;
  /** More complete lines follow in `buffer` (the `max` limit stopped the slice). */
  more: boolean;
  /** Bytes after the last newline: a line still being written, or torn by a crash. */
  tail: number;
}

/**
 * Takes up to `max` complete (newline-terminated) lines of `buffer` from `start`. Blank lines
 * count but are not returned; bytes after the last newline are never taken, so a partially
 * written last line is left for a later read (or ignored, if it stays torn).
 */
export function completeLines(
  buffer: Buffer,
  start: number,
  firstLine: number,
  max: number,
): LineSlice {
  const lines: Line[] = [];
  let offset = start;
  let line = firstLine - 1;
  while (lines.length < max) {
    const nl = buffer.indexOf(NEWLINE, offset);
    if (nl < 0) break;
    line += 1;
    let stop = nl;
    if (stop > offset && buffer[stop - 1] === 0x0d) stop -= 1;
    if (stop > offset) {
      const text = buffer.toString("utf8", offset, stop);
      if (text.trim()) lines.push({ text, line });
    }
    offset = nl + 1;
  }
  const more = lines.length >= max && buffer.indexOf(NEWLINE, offset) >= 0;
  return { lines, end: offset, lastLine: line, more, tail: more ? 0 : buffer.length - offset };
}
