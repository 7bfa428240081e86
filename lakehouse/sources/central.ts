import { z } from "zod";
import {
  API_KEY_PATTERN,
  CentralClient,
  CentralUnreachableError,
  EventsPage,
  Failure,
  PATHS,
} from "../../contract";
import type { Cursor, EventSource, RawRecord, SourceBatch } from "./source";

/**
 * The page envelope of `GET /v1/events`, with its events left unvalidated: each is checked on
 * its own by the projector, so one bad event is quarantined instead of failing the whole page.
 */
const LoosePage = EventsPage.extend({ events: z.array(z.unknown()) });

/** Central's most events per page. */
const PAGE_LIMIT = 1_000;

export interface CentralSourceOptions {
  url: string;
  key: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/**
 * A tenant's event log on central, paged with `GET /v1/events?after=<cursor>`. The cursor is
 * central's: the tenant-wide sequence it assigns at ingest, so a re-run resumes exactly.
 */
export class CentralSource implements EventSource {
  readonly origin: string;
  private readonly client: CentralClient;
  private readonly options: CentralSourceOptions;

  constructor(options: CentralSourceOptions) {
    this.options = options;
    this.client = new CentralClient({
      url: options.url,
      key: options.key,
      fetch: options.fetch,
      timeoutMs: options.timeoutMs,
    });
    const tenant = API_KEY_PATTERN.exec(options.key)?.[2];
    this.origin = `central:${this.client.url}${tenant ? `#${tenant}` : ""}`;
  }

  /** Central unreachable, overloaded or failing: a follower retries; a bad key or request does not. */
  isOutage(error: unknown): boolean {
    if (error instanceof CentralUnreachableError) return true;
    return error instanceof Failure && (error.status >= 500 || error.status === 429);
  }

  /**
   * Holds central's live event stream open from the cursor until its first event (the log
   * grew) or `maxMs`: one request a minute while nothing happens, instead of one per poll.
   */
  async waitForMore(
    cursors: readonly Cursor[],
    options: { signal?: AbortSignal; maxMs: number },
  ): Promise<void> {
    const after = cursors.find((c) => c.file === "")?.position ?? 0;
    const signals = [AbortSignal.timeout(options.maxMs)];
    if (options.signal) signals.push(options.signal);
    const signal = AbortSignal.any(signals);
    try {
      const response = await (this.options.fetch ?? fetch)(
        `${this.client.url}${PATHS.eventStream}?after=${after}`,
        {
          headers: { authorization: `Bearer ${this.options.key}`, accept: "text/event-stream" },
          signal,
        },
      );
      if (!response.ok || !response.body) {
        await response.body?.cancel();
        return;
      }
      const decoder = new TextDecoder();
      let text = "";
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        text += decoder.decode(chunk, { stream: true });
        if (/^event: event$/m.test(text)) break;
        text = text.slice(-64);
      }
      await response.body.cancel().catch(() => {});
    } catch {
      // Timed out, aborted or central away: the caller asks `next` either way.
    }
  }

  async next(cursors: readonly Cursor[], maxRecords: number): Promise<SourceBatch | null> {
    const start = cursors.find((c) => c.file === "") ?? {
      origin: this.origin,
      file: "",
      position: 0,
      lines: 0,
      complete: false,
      fingerprint: null,
    };
    const records: RawRecord[] = [];
    let after = start.position;
    for (;;) {
      const limit = Math.min(PAGE_LIMIT, maxRecords - records.length);
      const page = await this.client.request(
        "GET",
        `${PATHS.events}?after=${after}&limit=${limit}`,
        LoosePage,
      );
      page.events.forEach((value, i) => {
        const cursor = (value as { cursor?: unknown } | null)?.cursor;
        records.push({
          position: typeof cursor === "number" ? `cursor ${cursor}` : `after ${after} #${i}`,
          value,
        });
      });
      after = page.next_cursor;
      if (!page.has_more || records.length >= maxRecords || page.events.length === 0) break;
    }
    if (after === start.position) return null;
    return {
      parts: [{ records }],
      cursors: [{ ...start, position: after, lines: start.lines + records.length }],
      notes: [],
    };
  }
}
