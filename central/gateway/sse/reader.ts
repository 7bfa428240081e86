/** One Server-Sent Event as it arrived: its exact text (for forwarding) and its parsed fields. */
export interface SseEvent {
  /** The event's text, blank line included: forwarding it unchanged keeps the stream byte-exact. */
  raw: string;
  event: string | null;
  /** The `data` lines joined with "\n" ("" when there were none). */
  data: string;
  hasData: boolean;
}

/**
 * Reads SSE events from a byte stream one at a time (`next()`), so the caller can put a deadline
 * on each read. Any line ending (LF, CRLF, CR) is accepted; an event cut off by the end of the
 * stream is not returned (the stream's own terminator tells a caller whether it ended cleanly).
 */
export class SseReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffer = "";
  /** Where scanning for the end of the pending event resumes. */
  private scanned = 0;
  /** Whether the pending event has a non-blank line yet. */
  private sawLine = false;
  private done = false;

  constructor(body: ReadableStream<Uint8Array>) {
    this.reader = body.getReader();
  }

  /** The next complete event, or null at the end of the stream. Read errors propagate. */
  async next(): Promise<SseEvent | null> {
    for (;;) {
      const event = this.extract();
      if (event) return event;
      if (this.done) return null;
      const { done, value } = await this.reader.read();
      if (done) {
        this.buffer += this.decoder.decode();
        this.done = true;
      } else this.buffer += this.decoder.decode(value, { stream: true });
    }
  }

  /** Stops reading and cancels the underlying stream (the upstream connection). */
  async cancel(reason?: unknown): Promise<void> {
    this.done = true;
    await this.reader.cancel(reason).catch(() => {});
  }

  private extract(): SseEvent | null {
    const text = this.buffer;
    let lineStart = this.scanned;
    let i = this.scanned;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) {
        i += 1;
        continue;
      }
      // A CR at the very end may be the first half of a CRLF still in transit.
      if (c === 13 && i + 1 === text.length && !this.done) break;
      const end = c === 13 && text.charCodeAt(i + 1) === 10 ? i + 2 : i + 1;
      if (i === lineStart && this.sawLine) {
        const raw = text.slice(0, end);
        this.buffer = text.slice(end);
        this.scanned = 0;
        this.sawLine = false;
        return parse(raw);
      }
      // Blank lines before an event's first line stay in its raw text, so nothing is dropped.
      if (i !== lineStart) this.sawLine = true;
      lineStart = end;
      i = end;
    }
    this.scanned = lineStart;
    return null;
  }
}

function parse(raw: string): SseEvent {
  let event: string | null = null;
  const data: string[] = [];
  for (const line of raw.split(/\r\n|\r|\n/)) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  return { raw, event, data: data.join("\n"), hasData: data.length > 0 };
}

/** An event in SSE wire form; multi-line data becomes several `data:` lines. */
export function sseText(data: string, event?: string): string {
  const lines = data.split(/\r\n|\r|\n/).map((line) => `data: ${line}\n`);
  return `${event ? `event: ${event}\n` : ""}${lines.join("")}\n`;
}
