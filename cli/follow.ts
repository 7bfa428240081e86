import {
  type CentralClient,
  isRunTerminalKind,
  RunState,
  type StoredEvent,
  StoredEvent as StoredEventSchema,
} from "../contract";
import { formatEvent } from "./format-event";
import { readSse } from "./sse";

/**
 * Streams a run's events from central's SSE endpoint until the run ends, resuming with
 * Last-Event-ID after a dropped connection, then returns the run's final state.
 */
export async function followRun(
  client: CentralClient,
  runId: string,
  json: boolean,
): Promise<RunState> {
  let lastId: string | null = null;
  let failures = 0;
  for (;;) {
    try {
      const headers: Record<string, string> = { accept: "text/event-stream" };
      if (lastId) headers["last-event-id"] = lastId;
      const response = await client.raw(
        "GET",
        `/v1/events/stream?run=${encodeURIComponent(runId)}`,
        undefined,
        headers,
      );
      if (!response.ok || !response.body)
        throw new Error(`event stream answered HTTP ${response.status}`);
      failures = 0;
      for await (const message of readSse(response.body)) {
        if (message.event !== "event") continue;
        lastId = message.id;
        const event = StoredEventSchema.parse(JSON.parse(message.data)) as StoredEvent;
        process.stdout.write(json ? `${JSON.stringify(event)}\n` : `${formatEvent(event)}\n`);
        if (isRunTerminalKind(event.kind))
          return await client.request("GET", `/v1/runs/${runId}`, RunState);
      }
    } catch (error) {
      failures += 1;
      if (failures > 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(8_000, 250 * 2 ** failures)));
    }
  }
}
