import { describe, expect, it } from "vitest";
import { SseReader, sseText } from "../../../../central/gateway/sse/reader";

/** A byte stream delivering `parts` as separate chunks (split anywhere, even inside characters). */
function chunked(parts: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const part of parts)
        controller.enqueue(typeof part === "string" ? encoder.encode(part) : part);
      controller.close();
    },
  });
}

async function all(reader: SseReader) {
  const out = [];
  for (;;) {
    const event = await reader.next();
    if (!event) return out;
    out.push(event);
  }
}

describe("SseReader", () => {
  it("parses events split at any byte, keeping each event's exact text", async () => {
    const text =
      'event: message_start\ndata: {"a":1}\n\ndata: {"b":"é"}\n\n: comment\ndata: [DONE]\n\n';
    const bytes = new TextEncoder().encode(text);
    // One byte per chunk: every boundary, including inside the two-byte "é".
    const events = await all(new SseReader(chunked([...bytes].map((b) => new Uint8Array([b])))));
    expect(events.map((e) => e.raw).join("")).toBe(text);
    expect(events.map((e) => [e.event, e.data])).toEqual([
      ["message_start", '{"a":1}'],
      [null, '{"b":"é"}'],
      [null, "[DONE]"],
    ]);
  });

  it("accepts CRLF and CR line endings, including a CRLF split across chunks", async () => {
    const events = await all(
      new SseReader(chunked(["data: one\r", "\n\r\n", "data: two\r\rdata: x\ndata: y\n\n"])),
    );
    expect(events.map((e) => e.data)).toEqual(["one", "two", "x\ny"]);
    expect(events[0]!.raw).toBe("data: one\r\n\r\n");
  });

  it("drops an event cut off by the end of the stream, and keeps stray blank lines in the next event", async () => {
    const events = await all(new SseReader(chunked(["\n\ndata: whole\n\n", "data: cut off"])));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ data: "whole", raw: "\n\ndata: whole\n\n", hasData: true });
  });

  it("writes events with one data line per line", () => {
    expect(sseText("a\nb", "ping")).toBe("event: ping\ndata: a\ndata: b\n\n");
    expect(sseText("[DONE]")).toBe("data: [DONE]\n\n");
  });

  it("propagates a broken stream as an error, and cancel stops the source", async () => {
    let pulls = 0;
    const broken = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulls++ === 0) controller.enqueue(new TextEncoder().encode("data: 1\n\n"));
        else controller.error(new Error("reset"));
      },
    });
    const reader = new SseReader(broken);
    await expect(reader.next()).resolves.toMatchObject({ data: "1" });
    await expect(reader.next()).rejects.toThrow("reset");
    let cancelled: unknown = null;
    const source = new ReadableStream<Uint8Array>({
      cancel(reason) {
        cancelled = reason;
      },
    });
    await new SseReader(source).cancel("client left");
    expect(cancelled).toBe("client left");
  });
});
