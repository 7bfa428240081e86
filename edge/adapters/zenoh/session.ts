import type { Reply, Sample, Session, Subscriber } from "@eclipse-zenoh/zenoh-ts";
import WebSocket from "ws";
import type { JsonValue } from "../../../contract";
import { errorText } from "../call";
import { zenohTs } from "./zenoh-ts";

export interface ZenohValue {
  key_expr: string;
  encoding: string;
  payload: JsonValue;
}

export type QueryTargetName = "best_matching" | "all" | "all_complete";

/** The router's websocket URL for a locator, which may be in the router's own form, ws/host:port. */
export function routerUrl(locator: string): string {
  return locator.replace(/^(wss?)\//, "$1://");
}

/**
 * One Zenoh session per adapter, through a router's remote-api plugin (zenoh-ts). Opened on
 * first use; a session that fails is dropped and the next call opens another.
 */
export class ZenohClient {
  private session: Promise<Session> | null = null;
  /** Sessions given up on: closing one takes a while, and no call may get it meanwhile. */
  private readonly dropped = new WeakSet<Session>();
  private closed = false;

  constructor(
    /** The router's remote-api websocket (`routerUrl` of a locator). */
    private readonly url: string,
    private readonly connectTimeoutMs: number,
  ) {}

  async put(keyExpr: string, value: JsonValue): Promise<void> {
    const { Encoding } = await zenohTs();
    await this.use(async (session) => {
      await session.put(keyExpr, JSON.stringify(value), { encoding: Encoding.APPLICATION_JSON });
      await confirmed("put", session.info());
    });
  }

  /**
   * Queries `keyExpr` and collects replies until the query ends, `maxReplies` arrived, or the
   * signal aborts (which cancels the query). A reply that is an error fails the call.
   */
  async get(
    keyExpr: string,
    payload: JsonValue,
    options: {
      timeoutMs: number;
      maxReplies: number;
      target: QueryTargetName;
      signal: AbortSignal;
      onReply: (n: number, value: ZenohValue) => void;
    },
  ): Promise<ZenohValue[]> {
    const { CancellationToken, ConsolidationMode, Duration, Encoding, QueryTarget } =
      await zenohTs();
    const targets = {
      best_matching: QueryTarget.BEST_MATCHING,
      all: QueryTarget.ALL,
      all_complete: QueryTarget.ALL_COMPLETE,
    };
    const token = new CancellationToken();
    const replies: ZenohValue[] = [];
    return new Promise<ZenohValue[]>((resolve, reject) => {
      let settled = false;
      const settle = (error?: Error) => {
        if (settled) return;
        settled = true;
        options.signal.removeEventListener("abort", onAbort);
        if (!token.isCancelled()) token.cancel();
        if (error) reject(error);
        else resolve(replies);
      };
      const onAbort = () => settle(new Error("aborted"));
      options.signal.addEventListener("abort", onAbort, { once: true });
      const onReply = (reply: Reply) => {
        if (settled) return;
        const result = reply.result();
        if ("kind" in result) {
          replies.push(zenohValue(result));
          options.onReply(replies.length, replies.at(-1)!);
          if (replies.length >= options.maxReplies) settle();
        } else {
          settle(new Error(`the queryable answered an error: ${result.payload().toString()}`));
        }
      };
      this.use(async (session) => {
        await session.get(keyExpr, {
          payload: JSON.stringify(payload),
          encoding: Encoding.APPLICATION_JSON,
          timeout: Duration.milliseconds.of(options.timeoutMs),
          target: targets[options.target],
          consolidation: ConsolidationMode.NONE,
          cancellationToken: token,
          handler: [onReply, () => settle()],
        });
        await confirmed("query", session.info());
      }).catch((error: unknown) =>
        settle(error instanceof Error ? error : new Error(String(error))),
      );
    });
  }

  /**
   * Declares a subscriber once the router confirms it. A live router answers at once, so one
   * that has not answered by the time `signal` fires (the call's deadline or its run stopping)
   * is taken for gone, and the session is dropped there and then: the next call opens a new one
   * instead of waiting out the dead one's request timeout in turn.
   */
  async subscribe(
    keyExpr: string,
    onSample: (value: ZenohValue) => void,
    signal?: AbortSignal,
  ): Promise<Subscriber> {
    return this.use(async (session) => {
      const onAbort = () => this.drop(session);
      signal?.addEventListener("abort", onAbort, { once: true });
      try {
        return await confirmed(
          "subscription",
          session.declareSubscriber(keyExpr, {
            handler: (sample: Sample) => onSample(zenohValue(sample)),
          }),
        );
      } finally {
        signal?.removeEventListener("abort", onAbort);
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const session = await this.session?.catch(() => null);
    this.session = null;
    await session?.close().catch(() => undefined);
  }

  /**
   * Runs one operation on the session. zenoh-ts does not notice a router that went away (its
   * requests then time out), so a session an operation failed on is dropped and the next call
   * opens a new one.
   */
  private async use<T>(operation: (session: Session) => Promise<T>): Promise<T> {
    const session = await this.open();
    try {
      return await operation(session);
    } catch (error) {
      this.drop(session);
      throw error;
    }
  }

  /** Closes `session`; the next call opens another. */
  private drop(session: Session): void {
    if (this.dropped.has(session)) return;
    this.dropped.add(session);
    void session.close().catch(() => undefined);
  }

  private async open(): Promise<Session> {
    if (this.closed) throw new Error("the zenoh adapter is closed");
    const current = this.session ? await this.session.catch(() => null) : null;
    if (current && !current.isClosed() && !this.dropped.has(current)) return current;
    this.session = this.connect();
    this.session.catch(() => {
      this.session = null;
    });
    return this.session;
  }

  /**
   * zenoh-ts retries a websocket that does not open for minutes; a router that is not there is
   * found out first with one handshake bounded by the connect timeout.
   */
  private async connect(): Promise<Session> {
    const url = this.url;
    await new Promise<void>((resolve, reject) => {
      const probe = new WebSocket(url, { handshakeTimeout: this.connectTimeoutMs });
      probe.once("open", () => {
        probe.close();
        resolve();
      });
      probe.once("error", (error) => {
        probe.terminate();
        reject(new Error(`cannot reach the zenoh router's remote-api at ${url}: ${error.message}`));
      });
    });
    const { Config, open } = await zenohTs();
    return open(new Config(url, this.connectTimeoutMs));
  }
}

/**
 * Awaits a request the router answers, saying what it did not confirm when it fails. zenoh-ts
 * sends puts and queries without an answer, and a websocket that closed drops them without a
 * word: for them the request is one sent after them on the same ordered socket
 * (`session.info()`), whose answer confirms the router got them.
 */
async function confirmed<T>(what: string, request: Promise<T>): Promise<T> {
  try {
    return await request;
  } catch (error) {
    throw new Error(`the zenoh router did not confirm the ${what}: ${errorText(error)}`);
  }
}

function zenohValue(sample: Sample): ZenohValue {
  const encoding = sample.encoding().toString();
  const text = sample.payload().toString();
  let payload: JsonValue = text;
  if (encoding.startsWith("application/json") || /^\s*[[{"]/.test(text)) {
    try {
      payload = JSON.parse(text) as JsonValue;
    } catch {
      payload = text;
    }
  }
  return { key_expr: sample.keyexpr().toString(), encoding, payload };
}
