import type { SseEvent } from "../sse/reader";

/** What one upstream event meant. */
export interface Observation {
  /** Parsed JSON payload (null for `[DONE]`, comments, pings without data). */
  json: Record<string, unknown> | null;
  /** Carries the first content: text, a tool call or its arguments. */
  token: boolean;
  /** The stream's own end marker (`[DONE]`, `message_stop`). */
  terminal: boolean;
  /** The upstream reported an error inside the stream (or sent a malformed event). */
  error: string | null;
  /**
   * The event is not what its dialect says (a choice that is null, a delta of the wrong type):
   * nothing of it is relayed, and the stream ends with an error event.
   */
  malformed?: true;
}

/** Turns upstream events into what the client receives, in the client's dialect. */
export interface Relay {
  push(event: SseEvent, seen: Observation): string[];
  /** The upstream ended cleanly: anything still owed to the client. */
  end(): string[];
  /** The stream broke: an error event in the client's dialect, so it never looks complete. */
  fail(message: string, code: string): string[];
}
