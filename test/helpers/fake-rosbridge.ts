import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Frame = { op: string; id?: string; [key: string]: Json | undefined };

export interface FakeAction {
  /** Feedback messages sent one per `interval_ms` before the result. */
  feedback: Json[];
  interval_ms: number;
  result: Json;
  /** GoalStatus of the result: 4 succeeded (default), 6 aborted. */
  status?: number;
  /** Called when the result is sent (not when the goal is cancelled): the robot got there. */
  onResult?: () => void;
}

/**
 * A rosbridge v2 server at the protocol level, for tests: no ROS 2 graph behind it (ROS 2 does
 * not install here), but the frames a ROS 2 rosbridge_server sends for topics, services and
 * actions, including `status` errors, failed service responses and cancelled goals. Every frame
 * a client sends is recorded so tests can assert the wire format.
 *
 * Goals behave as rosbridge_library's SendActionGoal handles them: one table of goals by id
 * for all clients, so `cancel_action_goal` from any connection cancels a goal, and a goal goes
 * on when the client that sent it goes away (its feedback and result then reach nobody).
 */
export class FakeRosbridge {
  readonly received: Frame[] = [];
  /** Connections accepted so far. */
  accepted = 0;
  readonly services = new Map<
    string,
    (args: Json) => { result: boolean; values: Json } | "never"
  >();
  /** Action servers by name: a fixed behaviour, or one made from each goal's arguments. */
  readonly actions = new Map<string, FakeAction | ((goal: Json) => FakeAction)>();
  /** Message types this fake "knows"; subscribing to another type gets a status error. */
  readonly knownTypes = new Set([
    "sensor_msgs/msg/JointState",
    "geometry_msgs/msg/Twist",
    "std_msgs/msg/String",
  ]);
  private readonly server: WebSocketServer;
  private readonly subscribers = new Map<WebSocket, Map<string, string>>();
  /** Connections whose path went silent: nothing is read from them or sent to them. */
  private readonly silenced = new WeakSet<WebSocket>();
  private readonly goals = new Map<string, { timer: NodeJS.Timeout; socket: WebSocket }>();

  private constructor(server: WebSocketServer) {
    this.server = server;
    server.on("connection", (socket) => {
      this.accepted += 1;
      this.subscribers.set(socket, new Map());
      socket.on("message", (data) => this.handle(socket, JSON.parse(String(data)) as Frame));
      socket.on("close", () => this.subscribers.delete(socket));
    });
  }

  static async start(): Promise<FakeRosbridge> {
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((resolve) => server.once("listening", () => resolve()));
    return new FakeRosbridge(server);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Publishes as if a ROS node did, to every subscriber of the topic. */
  publish(topic: string, msg: Json): void {
    for (const [socket, subs] of this.subscribers)
      if (!this.silenced.has(socket) && [...subs.values()].includes(topic))
        socket.send(JSON.stringify({ op: "publish", topic, msg }));
  }

  subscriberCount(topic: string): number {
    let n = 0;
    for (const subs of this.subscribers.values())
      for (const t of subs.values()) if (t === topic) n++;
    return n;
  }

  ops(op: string): Frame[] {
    return this.received.filter((f) => f.op === op);
  }

  /**
   * Cuts every connection while rosbridge stays up (a Wi-Fi blip): its goals go on, since
   * rosbridge keeps a goal whose client went away.
   */
  cutConnections(): void {
    for (const socket of this.subscribers.keys()) socket.terminate();
  }

  /**
   * The path to every client connected now goes silent without a FIN or RST (a robot out of
   * range, a NAT that forgot the flow): nothing more is read from those connections, pings
   * included, and nothing is sent to them. New connections work.
   */
  silence(): void {
    for (const socket of this.subscribers.keys()) {
      this.silenced.add(socket);
      socket.pause();
    }
  }

  /** Drops every connection, as a crashing rosbridge would: its action clients end with it. */
  dropConnections(): void {
    for (const goal of this.goals.values()) clearInterval(goal.timer);
    this.goals.clear();
    for (const socket of this.subscribers.keys()) socket.terminate();
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(socket: WebSocket, frame: Frame): void {
    this.received.push(frame);
    const send = (f: Record<string, Json>, to = socket) => {
      if (to.readyState === to.OPEN && !this.silenced.has(to)) to.send(JSON.stringify(f));
    };
    switch (frame.op) {
      case "advertise":
        return;
      case "publish":
        this.publish(String(frame.topic), frame.msg ?? null);
        return;
      case "subscribe":
        if (!this.knownTypes.has(String(frame.type))) {
          send({
            op: "status",
            level: "error",
            id: frame.id ?? null,
            msg: `subscribe: Unable to import msg class ${String(frame.type)}`,
          });
          return;
        }
        // rosbridge keys a client's subscriptions by topic and id; the id is optional.
        this.subscribers.get(socket)?.set(`${frame.topic} ${frame.id ?? ""}`, String(frame.topic));
        return;
      case "unsubscribe": {
        // Without an id, every subscription of this client to the topic ends.
        const subs = this.subscribers.get(socket);
        for (const key of subs?.keys() ?? [])
          if (
            key === `${frame.topic} ${frame.id}` ||
            (frame.id === undefined && subs!.get(key) === frame.topic)
          )
            subs!.delete(key);
        return;
      }
      case "call_service": {
        const handler = this.services.get(String(frame.service));
        if (!handler) {
          send({
            op: "service_response",
            id: frame.id ?? null,
            service: String(frame.service),
            values: `Service ${String(frame.service)} does not exist`,
            result: false,
          });
          return;
        }
        const answer = handler(frame.args ?? null);
        if (answer === "never") return;
        send({
          op: "service_response",
          id: frame.id ?? null,
          service: String(frame.service),
          ...answer,
        });
        return;
      }
      case "send_action_goal": {
        const server = this.actions.get(String(frame.action));
        const id = String(frame.id);
        if (!server) {
          send({
            op: "status",
            level: "error",
            id,
            msg: `Action ${String(frame.action)} does not exist`,
          });
          return;
        }
        const action = typeof server === "function" ? server(frame.args ?? null) : server;
        let sent = 0;
        const timer = setInterval(() => {
          if (sent < action.feedback.length) {
            send({
              op: "action_feedback",
              id,
              action: String(frame.action),
              values: action.feedback[sent++]!,
            });
            return;
          }
          clearInterval(timer);
          this.goals.delete(id);
          const status = action.status ?? 4;
          action.onResult?.();
          send({
            op: "action_result",
            id,
            action: String(frame.action),
            values: action.result,
            status,
            result: status === 4,
          });
        }, action.interval_ms);
        this.goals.set(id, { timer, socket });
        return;
      }
      case "cancel_action_goal": {
        const id = String(frame.id);
        const goal = this.goals.get(id);
        if (!goal) return;
        clearInterval(goal.timer);
        this.goals.delete(id);
        send(
          {
            op: "action_result",
            id,
            action: String(frame.action),
            values: null,
            status: 5,
            result: true,
          },
          goal.socket,
        );
        return;
      }
    }
  }

  /** Goals still running (neither finished nor cancelled). */
  get activeGoals(): number {
    return this.goals.size;
  }
}
