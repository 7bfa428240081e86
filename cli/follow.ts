import {
  ApiError,
  type CentralClient,
  Failure,
  isRunTerminalKind,
  isTerminal,
  PATHS,
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
 * Streams a run's events from central's SSE endpoint from the run's first event until the run
 * ends, resuming with Last-Event-ID after a dropped connection, then returns the run's final
 * state. An ended attempt that central retries does not end the follow; a refusal (4xx) ends
 * it at once.
 */
export async function followRun(
  client: CentralClient,
  runId: string,
  json: boolean,
): Promise<RunState> {
  const end: { run?: RunState } = {};
  await followEvents(client, { run: runId, after: 0 }, async (event) => {
    process.stdout.write(json ? `${JSON.stringify(event)}\n` : `${formatEvent(event)}\n`);
    if (!isRunTerminalKind(event.kind)) return false;
    const run = await client.request("GET", `${PATHS.runs}/${encodeURIComponent(runId)}`, RunState);
    if (!isTerminal(runMachine, run.status)) return false;
    end.run = run;
    return true;
  });
  return end.run!;
}

/**
 * Follows the tenant's live event stream (optionally filtered, optionally replaying from a
 * cursor) and hands each event to `onEvent` until it returns true. Reconnects resume with
 * Last-Event-ID, so nothing is skipped or repeated.
 */
export async function followEvents(
  client: CentralClient,
  filter: { run?: string; agent?: string; kind?: string; after?: number },
  onEvent: (event: StoredEvent) => boolean | Promise<boolean>,
): Promise<void> {
  let lastId: string | null = null;
  let failures = 0;
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(filter))
    if (value !== undefined) query.set(name, String(value));
  for (;;) {
    try {
      const headers: Record<string, string> = { accept: "text/event-stream" };
      if (lastId) headers["last-event-id"] = lastId;
      const response = await client.raw(
        "GET",
        `${PATHS.eventStream}${query.toString() ? `?${query}` : ""}`,
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
        if (await onEvent(event)) {
          await response.body.cancel().catch(() => {});
          return;
        }
      }
    } catch (error) {
      if (error instanceof Failure) throw error;
      failures += 1;
      if (failures > MAX_FAILURES) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(8_000, 250 * 2 ** failures)));
    }
  }
}

/** How a followed run ended: its whole answer (events show it cut to a line), or why not. */
export function printRunEnd(run: RunState, json: boolean): void {
  if (json) return;
  if (run.status === "completed") {
    if (run.result) process.stdout.write(`\n${run.result}\n`);
    return;
  }
  const why = run.error ? `${run.error.reason}: ${run.error.message}` : run.status;
  process.stderr.write(`run ${run.run_id} ${run.status}: ${why}\n`);
}

async function refusal(response: Response): Promise<Failure> {
  const body = ApiError.safeParse(await response.json().catch(() => null));
  return body.success
    ? new Failure(response.status, body.data.error.code, body.data.error.message)
    : new Failure(response.status, "http_error", `event stream answered HTTP ${response.status}`);
}
