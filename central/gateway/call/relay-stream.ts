import type { Wire } from "../dialects/errors";
import type { CallUsage } from "../dialects/usage";
import { BAD_RESPONSE } from "../resilience/failures";
import type { SseEvent, SseReader } from "../sse/reader";
import { type Observation, relayFor, type StreamObserver } from "../translate/streams";

/** How a relayed stream ended, for the call's settlement. */
export interface StreamEnd {
  outcome: "ok" | "error" | "cancelled";
  errorType: string | null;
  usage: CallUsage | null;
  outputChars: number;
  finishReasons: string[];
  responseModel: string | null;
  responseId: string | null;
  /** Everything the client received, when it was small enough to cache. */
  transcript: string | null;
}

export interface RelayOptions {
  upstream: Wire;
  client: Wire;
  clientWantsUsage: boolean;
  /** The caller's request, which a translated Responses stream echoes. */
  request: Record<string, unknown>;
  idleTimeoutMs: number;
  /** Keep what the client receives (for the cache), up to this many characters. */
  captureLimit: number | null;
}

/**
 * The client's stream: the events read before the first token first, then the rest as they
 * arrive, relayed (same dialect: byte for byte; else translated). A stream that breaks, stalls
 * past the idle timeout or just stops without its terminator ends with an error event in the
 * client's dialect, never as a silent truncation. A client that hangs up cancels the upstream.
 */
export function relayStream(
  reader: SseReader,
  observer: StreamObserver,
  buffered: { event: SseEvent; seen: Observation }[],
  alreadyEnded: boolean,
  options: RelayOptions,
): { body: ReadableStream<Uint8Array>; ended: Promise<StreamEnd> } {
  const relay = relayFor(options.upstream, options.client, {
    clientWantsUsage: options.clientWantsUsage,
    now: Date.now(),
    request: options.request,
  });
  const encoder = new TextEncoder();
  let transcript: string[] | null = options.captureLimit === null ? null : [];
  let captured = 0;
  let finished = false;
  let resolveEnd!: (end: StreamEnd) => void;
  const ended = new Promise<StreamEnd>((resolve) => {
    resolveEnd = resolve;
  });
  const finish = (outcome: StreamEnd["outcome"], errorType: string | null) => {
    if (finished) return;
    finished = true;
    resolveEnd({
      outcome,
      errorType,
      usage: observer.usage,
      outputChars: observer.outputChars,
      finishReasons: observer.finish,
      responseModel: observer.responseModel,
      responseId: observer.responseId,
      transcript: outcome === "ok" && transcript ? transcript.join("") : null,
    });
  };
  const emit = (controller: ReadableStreamDefaultController<Uint8Array>, parts: string[]) => {
    if (parts.length === 0) return;
    const text = parts.join("");
    if (transcript) {
      captured += text.length;
      if (options.captureLimit !== null && captured > options.captureLimit) transcript = null;
      else transcript.push(text);
    }
    controller.enqueue(encoder.encode(text));
  };
  const fail = (
    controller: ReadableStreamDefaultController<Uint8Array>,
    errorType: string,
    message: string,
  ) => {
    emit(controller, relay.fail(message, errorType));
    finish("error", errorType);
    controller.close();
    void reader.cancel();
  };
  /**
   * An event the observer found malformed, or one whose translation threw (a field of the wrong
   * shape): the client's stream ends with an error event, and the call settles as it stands.
   */
  const malformed = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    if (!finished)
      fail(
        controller,
        BAD_RESPONSE,
        "the provider sent a malformed event mid-answer; the answer is incomplete",
      );
  };
  // A pull that enqueues nothing is not called again, so each pull reads until it has something
  // for the client or the stream is over.
  const pump = async (controller: ReadableStreamDefaultController<Uint8Array>) => {
    while (!finished) {
      let idle = false;
      const timer = setTimeout(() => {
        idle = true;
        void reader.cancel(new Error("idle"));
      }, options.idleTimeoutMs);
      let event: SseEvent | null = null;
      let broken = false;
      try {
        event = await reader.next();
      } catch {
        broken = true;
      } finally {
        clearTimeout(timer);
      }
      if (finished) return;
      if (idle)
        return fail(
          controller,
          "upstream_idle_timeout",
          `the provider sent nothing for ${options.idleTimeoutMs} ms; the answer is incomplete`,
        );
      if (broken)
        return fail(
          controller,
          "upstream_stream_interrupted",
          "the connection to the provider broke mid-answer; the answer is incomplete",
        );
      if (event === null)
        return fail(
          controller,
          "upstream_stream_truncated",
          "the provider's stream ended before the answer was complete",
        );
      const seen = observer.observe(event);
      if (seen.malformed) return malformed(controller);
      const out = relay.push(event, seen);
      if (seen.error) {
        // Same dialect: the provider's own error event was just forwarded as it came.
        if (options.upstream === options.client) emit(controller, out);
        else
          emit(
            controller,
            relay.fail(
              `the provider reported an error mid-answer: ${seen.error}`,
              "upstream_error",
            ),
          );
        finish("error", "upstream_error");
        controller.close();
        void reader.cancel();
        return;
      }
      emit(controller, out);
      if (seen.terminal) {
        emit(controller, relay.end());
        finish("ok", null);
        controller.close();
        void reader.cancel();
        return;
      }
      if (out.length) return;
    }
  };
  return {
    ended,
    body: new ReadableStream<Uint8Array>({
      // Nothing that goes wrong relaying an event leaves the client's stream (and with it the
      // call's settlement) hanging: a throw in start or pull is a malformed event.
      start(controller) {
        try {
          for (const { event, seen } of buffered) {
            // Before the first token a malformed event fails the attempt (upstream-chain.ts).
            if (seen.malformed) return malformed(controller);
            emit(controller, relay.push(event, seen));
          }
          if (alreadyEnded) {
            emit(controller, relay.end());
            finish("ok", null);
            controller.close();
          }
        } catch {
          malformed(controller);
        }
      },
      async pull(controller) {
        try {
          await pump(controller);
        } catch {
          malformed(controller);
        }
      },
      cancel(reason) {
        finish("cancelled", "client_cancelled");
        return reader.cancel(reason);
      },
    }),
  };
}
