import type { AdapterCallContext, AdapterTool } from "./adapter";
import { CallDeadline, errorText } from "./call";

/** How a tool that collects N items from a stream (topic, key expression) is declared. */
export interface CollectSpec<T> {
  tool: string;
  description: string;
  /** Items per call unless the model asks otherwise, and the most it may ask for. */
  count: number;
  max_count: number;
  timeoutMs: number;
  /** What is collected and from where, for messages: "message(s) on /joint_states". */
  what: string;
  source: (item: T) => string;
  /**
   * Starts delivering items (and errors) and resolves with the function that stops it; called
   * once per call, under the call's deadline signal.
   */
  subscribe(
    onItem: (item: T) => void,
    onError: (error: Error) => void,
    signal: AbortSignal,
  ): Promise<() => unknown>;
  result(items: T[]): AdapterToolResult;
}

type AdapterToolResult = Awaited<ReturnType<AdapterTool["execute"]>>;

/**
 * A tool that subscribes, collects `count` items with progress, and unsubscribes — on success,
 * failure, timeout or the run stopping alike. A timeout says how many items came.
 */
export function collectingTool<T>(spec: CollectSpec<T>): AdapterTool {
  return {
    name: spec.tool,
    description: spec.description,
    input_schema: {
      type: "object",
      properties: {
        count: {
          type: "integer",
          minimum: 1,
          maximum: spec.max_count,
          description: `how many to collect (default ${spec.count})`,
        },
      },
    },
    async execute(args, { signal, progress }: AdapterCallContext) {
      const count = typeof args.count === "number" ? args.count : spec.count;
      const deadline = new CallDeadline(
        `waiting for ${count} ${spec.what}`,
        spec.timeoutMs,
        signal,
      );
      const items: T[] = [];
      let stop: (() => unknown) | undefined;
      const unsubscribe = async () => {
        const current = stop;
        stop = undefined;
        await Promise.resolve(current?.()).catch(() => undefined);
      };
      try {
        await deadline.guard(
          () =>
            new Promise<void>((resolve, reject) => {
              spec
                .subscribe(
                  (item) => {
                    if (items.length >= count) return;
                    items.push(item);
                    progress?.(`${items.length}/${count} from ${spec.source(item)}`);
                    if (items.length >= count) resolve();
                  },
                  reject,
                  deadline.signal,
                )
                .then((s) => {
                  stop = s;
                  // The call ended while the subscription was being set up.
                  if (deadline.aborted || items.length >= count) void unsubscribe();
                }, reject);
            }),
        );
      } catch (error) {
        if (deadline.timedOut)
          throw new Error(`${errorText(error)} (got ${items.length} of ${count})`);
        throw error;
      } finally {
        await unsubscribe();
      }
      return spec.result(items);
    },
  };
}
