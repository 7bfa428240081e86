import {
  ApiError,
  type CentralClient,
  CentralUnreachableError,
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
import { readSse, type SsePosition } from "./sse";

/** Waits, and tells the time: a test's own, so it crosses minutes of downtime at once. */
export interface FollowClock {
  sleep(ms: number): Promise<void>;
  now(): number;
}

export interface FollowOptions {
  /**
   * How long central may stay unreachable, once the stream has connected, before following
   * gives up; null: never (until interrupted).
   */
  patienceMs?: number | null;
  clock?: FollowClock;
  /** Where the one "reconnecting" line of an outage goes (stderr). */
  say?: (line: string) => void;
}

const realClock: FollowClock = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now(),
};

/** A run's follow outlasts a central restart or a network blip of a few minutes. */
export const RUN_PATIENCE_MS = 10 * 60_000;
/** Reconnects back off from 0.5 s, doubling, to this. */
const MAX_BACKOFF_MS = 10_000;
/** Tries of the run's GET when central cannot be reached (it may be restarting as the run ends). */
const RUN_GET_TRIES = 4;

const backoffMs = (failures: number) => Math.min(MAX_BACKOFF_MS, 250 * 2 ** failures);

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
  options: FollowOptions = {},
): Promise<RunState> {
  const clock = options.clock ?? realClock;
  const end: { run?: RunState } = {};
  await followEvents(
    client,
    { run: runId, after: 0 },
    async (event) => {
      // A run's end is printed once its state is known: if that cannot be read, the event is
      // handled again after the reconnect, and printed then.
      const run = isRunTerminalKind(event.kind) ? await getRun(client, runId, clock) : null;
      process.stdout.write(json ? `${JSON.stringify(event)}\n` : `${formatEvent(event)}\n`);
      if (!run || !isTerminal(runMachine, run.status)) return false;
      end.run = run;
      return true;
    },
    { patienceMs: RUN_PATIENCE_MS, ...options },
  );
  return end.run!;
}

/** The run's state, asked again a few times while central cannot be reached. */
async function getRun(client: CentralClient, runId: string, clock: FollowClock): Promise<RunState> {
  for (let tries = 1; ; tries++) {
    try {
      return await client.request("GET", `${PATHS.runs}/${encodeURIComponent(runId)}`, RunState);
    } catch (error) {
      if (!(error instanceof CentralUnreachableError) || tries === RUN_GET_TRIES) throw error;
      await clock.sleep(backoffMs(tries));
    }
  }
}

/**
 * Follows the tenant's live event stream (optionally filtered, optionally replaying from a
 * cursor) and hands each event to `onEvent` until it returns true. Reconnects resume with
 * Last-Event-ID from the last event `onEvent` finished with (or from where central said the
 * stream started), so nothing is skipped or repeated, and an event whose handling failed is
 * handled again. The first connection failing fails at once; once connected, an outage is
 * waited out, with backoff, for `patienceMs`.
 */
export async function followEvents(
  client: CentralClient,
  filter: { run?: string; agent?: string; kind?: string; after?: number },
  onEvent: (event: StoredEvent) => boolean | Promise<boolean>,
  options: FollowOptions = {},
): Promise<void> {
  const clock = options.clock ?? realClock;
  const patienceMs = options.patienceMs === undefined ? null : options.patienceMs;
  const say = options.say ?? ((line: string) => process.stderr.write(`${line}\n`));
  const position: SsePosition = { lastEventId: null };
  let connected = false;
  let failures = 0;
  let downSince: number | null = null;
  // An event whose handling failed comes again after the reconnect, which then succeeds: the
  // failures go on counting (backoff, patience, one "reconnecting" line) until an event is
  // handled, or an event that can never be handled would be retried every 0.5 s for ever.
  let handlerFailed = false;
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(filter))
    if (value !== undefined) query.set(name, String(value));
  const path = `${PATHS.eventStream}${query.toString() ? `?${query}` : ""}`;
  for (;;) {
    try {
      const headers: Record<string, string> = { accept: "text/event-stream" };
      if (position.lastEventId) headers["last-event-id"] = position.lastEventId;
      const response = await client.stream(path, headers);
      if (response.status >= 400 && response.status < 500) throw await refusal(response);
      if (!response.ok || !response.body)
        throw new Error(`event stream at ${client.url} answered HTTP ${response.status}`);
      connected = true;
      if (!handlerFailed) {
        failures = 0;
        downSince = null;
      }
      let handled = position.lastEventId;
      for await (const message of readSse(response.body, position)) {
        if (message.event === "event") {
          const event = StoredEventSchema.parse(JSON.parse(message.data)) as StoredEvent;
          let done: boolean;
          try {
            done = await onEvent(event);
          } catch (error) {
            position.lastEventId = handled;
            handlerFailed = true;
            throw error;
          }
          if (handlerFailed) {
            handlerFailed = false;
            failures = 0;
            downSince = null;
          }
          if (done) {
            await response.body.cancel().catch(() => {});
            return;
          }
        }
        handled = position.lastEventId;
      }
    } catch (error) {
      if (error instanceof Failure || !connected) throw error;
      failures += 1;
      downSince ??= clock.now();
      if (patienceMs !== null && clock.now() - downSince >= patienceMs) throw error;
      if (failures === 1)
        say(
          `auraison: lost central's event stream (${error instanceof Error ? error.message : String(error)}); reconnecting…`,
        );
      await clock.sleep(backoffMs(failures));
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
