import { describe, expect, it } from "vitest";
import type { Principal } from "../../../central/auth/principal";
import type { EventFilter, StoredRecord } from "../../../central/events/event-log";
import type { EventReader, Page } from "../../../central/events/reader";
import { EventStreams } from "../../../central/events/stream";
import { createLogger } from "../../../central/log";
import { readSse, type SseMessage } from "../../../cli/sse";
import type { AgentEvent } from "../../../contract";

const PAGE = 1_000;

/** A log in memory, read as central's reader pages it; counts the pages read. */
class MemoryLog {
  readonly bodies: string[] = [];
  pagesRead = 0;

  append(n: number, bytes: number): StoredRecord[] {
    return Array.from({ length: n }, () => {
      const cursor = this.bodies.length + 1;
      const body = JSON.stringify({ cursor, pad: "x".repeat(bytes) });
      this.bodies.push(body);
      return {
        cursor,
        body,
        event: { run_id: null, agent_id: "a", kind: "message" } as AgentEvent,
      };
    });
  }

  reader(): EventReader {
    const page = async (after: number, limit: number, _filter: EventFilter): Promise<Page> => {
      this.pagesRead += 1;
      const items = this.bodies
        .slice(after, after + limit)
        .map((body, i) => ({ cursor: after + i + 1, body }));
      const next = after + items.length;
      return { items, next_cursor: next, has_more: next < this.bodies.length };
    };
    return { page } as unknown as EventReader;
  }
}

const viewer: Principal = { id: "key_1", role: "viewer", app: null, secret: "s" };

/** A viewer's stream over `log` from its start, replayed as far as it goes with the client reading nothing. */
async function openStream(log: MemoryLog): Promise<{ streams: EventStreams; response: Response }> {
  const streams = new EventStreams(
    log.reader(),
    createLogger(),
    () => 0,
    () => undefined,
  );
  const response = streams.open(0, {}, viewer);
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 0));
  return { streams, response };
}

/** The cursors of the next events on `messages`, up to and including `last`. */
async function cursorsUpTo(messages: AsyncIterator<SseMessage>, last: number): Promise<number[]> {
  const cursors: number[] = [];
  while (cursors.at(-1) !== last) {
    const next = await messages.next();
    if (next.done) break;
    if (next.value.event === "event") cursors.push(Number(next.value.id));
  }
  return cursors;
}

const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe("an event stream's replay", () => {
  it("reads a page only once the client has taken the one before the last, and delivers every event once", async () => {
    const log = new MemoryLog();
    log.append(20 * PAGE, 200);
    const { response } = await openStream(log);
    // Without backpressure all 20 pages (4 MB) were read and queued for a client reading none.
    expect(log.pagesRead).toBeLessThanOrEqual(2);
    const messages = readSse(response.body!)[Symbol.asyncIterator]();
    expect(await cursorsUpTo(messages, 20 * PAGE)).toEqual(upTo(20 * PAGE));
    expect(log.pagesRead).toBe(20);
    await messages.return?.(undefined);
  });

  it("drops a backlog grown past its bound while the client is slow and reads it from the log instead", async () => {
    const log = new MemoryLog();
    log.append(3 * PAGE, 100);
    const { streams, response } = await openStream(log);
    // 6 MB published while the replay waits on the client: more than the backlog holds.
    for (let i = 0; i < 6; i++) streams.publish(log.append(PAGE, 1_000));
    const messages = readSse(response.body!)[Symbol.asyncIterator]();
    expect(await cursorsUpTo(messages, 9 * PAGE)).toEqual(upTo(9 * PAGE));
    // The published events came from the log, not from a backlog holding 6 MB.
    expect(log.pagesRead).toBeGreaterThanOrEqual(9);
    // Then it is live: a new event is sent as it is published.
    streams.publish(log.append(1, 10));
    expect(await cursorsUpTo(messages, 9 * PAGE + 1)).toEqual([9 * PAGE + 1]);
    await messages.return?.(undefined);
  });
});
