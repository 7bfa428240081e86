/** One Server-Sent Event. */
export interface SseMessage {
  id: string | null;
  event: string;
  data: string;
}

/** Where a stream has got to: its last event ID, as a reconnect's Last-Event-ID sends it. */
export interface SsePosition {
  lastEventId: string | null;
}

/**
 * Parses an SSE byte stream into messages (the WHATWG event-stream format). As in a browser,
 * the last event ID is set at the end of every message, one without data included (a server
 * says where a stream starts that way), and kept in `position`.
 */
export async function* readSse(
  body: ReadableStream<Uint8Array>,
  position: SsePosition = { lastEventId: null },
): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buffer = "";
  let id = position.lastEventId;
  let event = "message";
  let data: string[] = [];
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline = buffer.search(/\r\n|\r|\n/);
    while (newline >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith("\r\n", newline) ? 2 : 1));
      newline = buffer.search(/\r\n|\r|\n/);
      if (line === "") {
        position.lastEventId = id;
        if (data.length) yield { id, event, data: data.join("\n") };
        event = "message";
        data = [];
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "data") data.push(value);
      else if (field === "event") event = value;
      else if (field === "id") id = value;
    }
  }
}
