import type { SseEvent } from "../sse/reader";

/** What one upstream event meant. */
export interface Observation {
  /** Parsed JSON payload (null for `[DONE]`, comments, pings without data). */
  json: Record<string, unknown> | null;
  /** Carries the first content: text, a tool call or its arguments. */
  token: boolean;
  /** The stream's own end marker (`[DONE]`, `message_stop`). */
  terminal: boolean;
  /** The upstream reported an error inside the stream. */
  error: string | null;
}

/** Turns upstream events into what the client receives, in the client's dialect. */
export interface Relay {
  push(event: SseEvent, seen: Observation): string[];
  /** The upstream ended cleanly: anything still owed to the client. */
  end(): string[];
  /** The stream broke: an error event in the client's dialect, so it never looks complete. */
  fail(message: string, code: string): string[];
}
