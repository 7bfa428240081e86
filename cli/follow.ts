import {
  ApiError,
  CentralApiError,
  type CentralClient,
  isRunTerminalKind,
  isTerminal,
  RunState,
  runMachine,
  type StoredEvent,
  StoredEvent as StoredEventSchema,
} from "../contract";
import { formatEvent } from "./format-event";
import { readSse } from "./sse";

/** Reconnects in a row before giving up on the stream. */
const MAX_FAILURES = 5;

/**
 * Streams a run's events from central's SSE endpoint until the run ends, resuming with
 * Last-Event-ID after a dropped connection, then returns the run's final state. An ended
 * attempt that central retries does not end the follow; a refusal (4xx) ends it at once.
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
      if (response.status >= 400 && response.status < 500) throw await refusal(response);
      if (!response.ok || !response.body)
        throw new Error(`event stream answered HTTP ${response.status}`);
      failures = 0;
      for await (const message of readSse(response.body)) {
        if (message.event !== "event") continue;
        lastId = message.id;
        const event = StoredEventSchema.parse(JSON.parse(message.data)) as StoredEvent;
        process.stdout.write(json ? `${JSON.stringify(event)}\n` : `${formatEvent(event)}\n`);
        if (isRunTerminalKind(event.kind)) {
          const run = await client.request(
            "GET",
            `/v1/runs/${encodeURIComponent(runId)}`,
            RunState,
          );
          if (isTerminal(runMachine, run.status)) return run;
        }
      }
    } catch (error) {
      if (error instanceof CentralApiError) throw error;
      failures += 1;
      if (failures > MAX_FAILURES) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(8_000, 250 * 2 ** failures)));
    }
  }
}

async function refusal(response: Response): Promise<CentralApiError> {
  const body = ApiError.safeParse(await response.json().catch(() => null));
  return body.success
    ? new CentralApiError(response.status, body.data.error.code, body.data.error.message)
    : new CentralApiError(
        response.status,
        "http_error",
        `event stream answered HTTP ${response.status}`,
      );
}
