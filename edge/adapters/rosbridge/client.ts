import WebSocket from "ws";
import type { JsonValue } from "../../../contract";
import { type Clock, systemClock } from "../../timers";
import type { AdapterCallIdentity } from "../adapter";
import { errorText } from "../call";
import { KEEPALIVE, Keepalive, type KeepaliveTiming } from "./keepalive";
import {
  type ClientOp,
  GOAL_STATUS,
  GOAL_SUCCEEDED,
  parseServerOp,
  type ServerOp,
} from "./protocol";

export interface GoalOutcome {
  status: string;
  succeeded: boolean;
  values: JsonValue;
}

interface Pending {
  onMessage(message: ServerOp): void;
  fail(error: Error): void;
}

/**
 * A rosbridge v2 client over one WebSocket, shared by every call of an adapter.
 *
 * Written here rather than taken from roslib: roslib leaves calls pending forever when the
 * socket drops, has no per-call timeout or abort for services and actions, and keeps a goal's
 * handlers registered after its result. This client fails every pending call when the
 * connection goes, takes an AbortSignal per call, and cleans up after each one; it reconnects
 * on the next call. A connection whose path went silent is found out by a keepalive (see
 * `Keepalive`) or by a call that timed out with nothing heard since it was sent, and dropped.
 */
export class RosbridgeClient {
  private socket: WebSocket | null = null;
  private connecting: Promise<WebSocket> | null = null;
  private readonly pending = new Map<string, Pending>();
  private readonly subscriptions = new Map<
    string,
    { topic: string; onMessage: (msg: JsonValue) => void }
  >();
  private readonly advertised = new Set<string>();
  private readonly keepalives = new WeakMap<WebSocket, Keepalive>();
  private counter = 0;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly connectTimeoutMs: number,
    private readonly keepalive: { timing: KeepaliveTiming; timers: Clock } = {
      timing: KEEPALIVE,
      timers: systemClock,
    },
  ) {}

  async publish(topic: string, type: string, msg: JsonValue, signal: AbortSignal): Promise<void> {
    const socket = await this.connection(signal);
    if (!this.advertised.has(topic)) {
      this.send(socket, { op: "advertise", id: this.id("advertise", topic), topic, type });
      this.advertised.add(topic);
    }
    this.send(socket, { op: "publish", id: this.id("publish", topic), topic, msg });
  }

  /**
   * Subscribes until the returned function is called. `onError` hears of a refusal by the
   * server (a `status` error for this subscription) or the loss of the connection.
   */
  async subscribe(
    topic: string,
    type: string,
    onMessage: (msg: JsonValue) => void,
    onError: (error: Error) => void,
    signal: AbortSignal,
    options: { throttle_rate?: number; queue_length?: number } = {},
  ): Promise<() => void> {
    const socket = await this.connection(signal);
    const id = this.id("subscribe", topic);
    this.send(socket, { op: "subscribe", id, topic, type, ...options });
    this.subscriptions.set(id, { topic, onMessage });
    this.pending.set(id, {
      onMessage: (message) => {
        if (message.op === "status") onError(new Error(`subscribe ${topic}: ${message.msg}`));
      },
      fail: onError,
    });
    return () => {
      if (!this.subscriptions.has(id)) return;
      this.subscriptions.delete(id);
      this.pending.delete(id);
      if (this.socket === socket && socket.readyState === WebSocket.OPEN)
        this.send(socket, { op: "unsubscribe", id, topic });
    };
  }

  async callService(
    service: string,
    type: string | undefined,
    args: JsonValue,
    signal: AbortSignal,
  ): Promise<JsonValue> {
    const socket = await this.connection(signal);
    const id = this.id("call_service", service);
    return this.exchange(
      socket,
      { op: "call_service", id, service, ...(type ? { type } : {}), args },
      signal,
      (message, resolve, reject) => {
        if (message.op !== "service_response") return;
        if (message.result) resolve(message.values ?? null);
        else reject(new Error(`service ${service} failed: ${describeValues(message.values)}`));
      },
    );
  }

  /**
   * Sends a goal and follows it to its result. When `signal` aborts, the goal is cancelled and
   * its final result awaited for up to `cancelGraceMs`; either way the call then rejects. When
   * the connection is lost meanwhile, the goal is cancelled from a new one, since rosbridge
   * goes on with it. `goalId` (see `goalIdOf`) names the goal so that it can be cancelled later
   * by another connection; without it the goal gets the next id of this client.
   */
  async sendGoal(
    action: string,
    actionType: string,
    goal: JsonValue,
    onFeedback: (values: JsonValue) => void,
    signal: AbortSignal,
    cancelGraceMs: number,
    goalId?: string,
  ): Promise<GoalOutcome> {
    const socket = await this.connection(signal);
    const id = goalId ?? this.id("send_action_goal", action);
    this.send(socket, {
      op: "send_action_goal",
      id,
      action,
      action_type: actionType,
      args: goal,
      feedback: true,
    });
    const outcome = new Promise<GoalOutcome>((resolve, reject) => {
      this.pending.set(id, {
        onMessage: (message) => {
          if (message.op === "action_feedback") onFeedback(message.values);
          else if (message.op === "action_result") {
            this.pending.delete(id);
            resolve({
              status: GOAL_STATUS[message.status] ?? `status ${message.status}`,
              succeeded: message.result && message.status === GOAL_SUCCEEDED,
              values: message.values ?? null,
            });
          } else if (message.op === "status") {
            this.pending.delete(id);
            reject(new Error(`action ${action}: ${message.msg}`));
          }
        },
        fail: (error) => {
          this.pending.delete(id);
          reject(error);
        },
      });
    });
    if (!signal.aborted) {
      const stopped = await Promise.race([
        outcome.then(
          () => false,
          () => false,
        ),
        new Promise<boolean>((resolve) =>
          signal.addEventListener("abort", () => resolve(true), { once: true }),
        ),
      ]);
      if (!stopped)
        return outcome.catch((error: unknown) => this.cancelLostGoal(action, id, error));
    }
    if (socket.readyState === WebSocket.OPEN)
      this.send(socket, { op: "cancel_action_goal", id, action });
    const grace = new Promise<"grace">((resolve) =>
      setTimeout(() => resolve("grace"), cancelGraceMs).unref(),
    );
    const final = await Promise.race([outcome.catch(() => null), grace]);
    this.pending.delete(id);
    const after =
      final === "grace"
        ? `no result within ${cancelGraceMs} ms of the cancel`
        : final
          ? `the goal ended ${final.status}`
          : "the connection was lost";
    throw new GoalCancelled(`action ${action}: goal cancelled (${after})`);
  }

  /**
   * Asks rosbridge to cancel a goal by its id, whichever connection sent it: rosbridge keeps
   * the goals of every client in one table (`SendActionGoal.client_handler_list`) and leaves a
   * goal running when its client goes away. The cancelled goal's result goes to the connection
   * that sent it, so nothing comes back here.
   */
  async cancelGoal(action: string, goalId: string, signal: AbortSignal): Promise<void> {
    const socket = await this.connection(signal);
    this.send(socket, { op: "cancel_action_goal", id: goalId, action });
  }

  /** A goal whose connection was lost goes on in rosbridge: cancel it from a new connection. */
  private async cancelLostGoal(action: string, goalId: string, error: unknown): Promise<never> {
    if (!(error instanceof ConnectionLost)) throw error;
    let cancel: string;
    try {
      await this.cancelGoal(action, goalId, AbortSignal.timeout(this.connectTimeoutMs));
      cancel = `sent cancel_action_goal for ${goalId} on a new connection`;
    } catch (cancelError) {
      cancel = `could not send cancel_action_goal for ${goalId}, so the goal may still run: ${errorText(cancelError)}`;
    }
    throw new Error(`action ${action}: ${error.message} during the goal; ${cancel}`);
  }

  async close(): Promise<void> {
    this.closed = true;
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        socket.once("close", () => resolve());
        socket.close();
        setTimeout(() => {
          socket.terminate();
          resolve();
        }, 1_000).unref();
      });
    }
  }

  /**
   * Sends `request` and settles by the answers to its id. A request that timed out with nothing
   * at all heard on the connection since it went (not even a pong) tells of a dead path: the
   * connection is dropped, so that the next call reconnects instead of timing out in turn.
   */
  private exchange<T>(
    socket: WebSocket,
    request: ClientOp & { id: string },
    signal: AbortSignal,
    onMessage: (
      message: ServerOp,
      resolve: (value: T) => void,
      reject: (error: Error) => void,
    ) => void,
  ): Promise<T> {
    const id = request.id;
    const keepalive = this.keepalives.get(socket);
    const heardBefore = keepalive?.heard;
    this.send(socket, request);
    return new Promise<T>((resolve, reject) => {
      const done = () => {
        this.pending.delete(id);
        signal.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        done();
        if (timedOut(signal) && keepalive?.heard === heardBefore)
          this.drop(socket, `nothing heard since ${id} was sent, and it timed out`);
        reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
      };
      this.pending.set(id, {
        onMessage: (message) => {
          if (message.op === "status") {
            done();
            reject(new Error(message.msg));
            return;
          }
          onMessage(
            message,
            (value) => {
              done();
              resolve(value);
            },
            (error) => {
              done();
              reject(error);
            },
          );
        },
        fail: (error) => {
          done();
          reject(error);
        },
      });
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  private connection(signal: AbortSignal): Promise<WebSocket> {
    if (this.closed) return Promise.reject(new Error("the rosbridge adapter is closed"));
    if (this.socket?.readyState === WebSocket.OPEN) return Promise.resolve(this.socket);
    this.connecting ??= this.open().finally(() => {
      this.connecting = null;
    });
    return Promise.race([
      this.connecting,
      new Promise<never>((_, reject) => {
        if (signal.aborted) reject(new Error("aborted before connecting"));
        signal.addEventListener("abort", () => reject(new Error("aborted while connecting")), {
          once: true,
        });
      }),
    ]);
  }

  private open(): Promise<WebSocket> {
    return new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(this.url, { handshakeTimeout: this.connectTimeoutMs });
      const failConnect = (error: Error) => {
        socket.removeAllListeners();
        socket.on("error", () => {});
        socket.terminate();
        reject(new Error(`cannot connect to rosbridge at ${this.url}: ${error.message}`));
      };
      socket.once("error", failConnect);
      socket.once("open", () => {
        socket.off("error", failConnect);
        this.socket = socket;
        this.advertised.clear();
        const { timing, timers } = this.keepalive;
        const keepalive = new Keepalive(socket, timing, timers, (reason) =>
          this.drop(socket, reason),
        );
        this.keepalives.set(socket, keepalive);
        socket.on("message", (data) => this.receive(String(data)));
        socket.on("error", () => {});
        socket.once("close", () => {
          keepalive.stop();
          this.lost(socket);
        });
        resolve(socket);
      });
    });
  }

  private receive(text: string): void {
    const message = parseServerOp(text);
    if (!message) return;
    if (message.op === "publish") {
      for (const subscription of this.subscriptions.values())
        if (subscription.topic === message.topic) subscription.onMessage(message.msg);
      return;
    }
    if (message.op === "status" && message.level !== "error") return;
    const id = "id" in message ? message.id : undefined;
    if (id !== undefined) this.pending.get(id)?.onMessage(message);
  }

  private lost(socket: WebSocket, reason?: string): void {
    if (this.socket !== socket) return;
    this.socket = null;
    this.advertised.clear();
    this.subscriptions.clear();
    const error = new ConnectionLost(
      `connection to rosbridge at ${this.url} was lost${reason ? ` (${reason})` : ""}`,
    );
    for (const pending of [...this.pending.values()]) pending.fail(error);
    this.pending.clear();
  }

  /** Gives up on a connection found dead: its calls fail now, and the next call reconnects. */
  private drop(socket: WebSocket, reason: string): void {
    this.keepalives.get(socket)?.stop();
    this.lost(socket, reason);
    socket.terminate();
  }

  /**
   * Sends one frame, or throws when the connection was found dead meanwhile (a call that got
   * it just before): `ws` drops a frame sent on a closing socket without a word.
   */
  private send(socket: WebSocket, op: ClientOp): void {
    if (socket.readyState !== WebSocket.OPEN)
      throw new Error(
        `connection to rosbridge at ${this.url} was lost before the ${op.op} could be sent`,
      );
    socket.send(JSON.stringify(op));
  }

  private id(op: string, name: string): string {
    this.counter += 1;
    return `${op}:${name}:${this.counter}`;
  }
}

/**
 * The id of the goal a tool call sends, from the call's identity (run, attempt, tool call), in
 * roslibjs's `<op>:<name>:<n>` form: the same call always names the same goal, so a restarted
 * agent can cancel the goal a crashed one left running.
 */
export function goalIdOf(action: string, call: AdapterCallIdentity): string {
  const tool = call.tool_call_id.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64);
  return `send_action_goal:${action}:auraison-${call.run_id}-${call.attempt}-${tool}`;
}

/** The connection a call was waiting on went away. */
class ConnectionLost extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConnectionLost";
  }
}

/**
 * Whether the signal fired for its timeout (AbortSignal.timeout, as a call's deadline has),
 * rather than for the run stopping.
 */
function timedOut(signal: AbortSignal): boolean {
  return signal.reason instanceof DOMException && signal.reason.name === "TimeoutError";
}

/** The goal was cancelled because the call was stopped. */
export class GoalCancelled extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GoalCancelled";
  }
}

function describeValues(values: JsonValue | undefined): string {
  if (values === undefined || values === null) return "no details";
  return typeof values === "string" ? values : JSON.stringify(values);
}
