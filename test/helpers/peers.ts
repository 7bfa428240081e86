import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { type ManagedProcess, spawnManaged } from "../../cli/local-stack/processes";

/**
 * Real peers the adapter tests run against, installed by `npm run peers` (CI runs it) into
 * `.peers/`: Python packages (Ray, eclipse-zenoh; ros-mcp apart) and the Zenoh router binary.
 */
export const PEERS = resolve(".peers");
export const PEERS_PYTHON = resolve(PEERS, "python");
/** ros-mcp (ros-mcp-server) and FastMCP, for PYTHONPATH: apart from Ray's pins. */
export const ROS_MCP_PYTHONPATH = resolve(PEERS, "ros-mcp");
export const ZENOH_ROUTER = resolve(PEERS, "bin", "zenoh-router");

export function requirePeer(path: string, what: string): string {
  if (!existsSync(path))
    throw new Error(`${what} is not installed at ${path}: run \`npm run peers\` first`);
  return path;
}

/**
 * `unshare` options for a peer that must not reach (or be reached from) the network: its own
 * network namespace with only loopback, and its own PID namespace, so that everything it starts
 * ends with it and nothing else on the host is touched.
 */
export const ISOLATED = ["--net", "--pid", "--fork", "--mount-proc", "--kill-child"] as const;

/** Environment for Python peers: the project-local packages first. */
export function pythonEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  requirePeer(PEERS_PYTHON, "the peers' Python packages");
  return {
    ...process.env,
    PYTHONPATH: [PEERS_PYTHON, process.env.PYTHONPATH].filter(Boolean).join(":"),
    PYTHONUNBUFFERED: "1",
    ...extra,
  };
}

/** Starts a process and waits until it prints `ready` (or fails with what it printed). */
export async function startPeer(
  name: string,
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; ready: string | RegExp; timeoutMs?: number },
): Promise<ManagedProcess> {
  const proc = spawnManaged(name, command, args, options.env ? { env: options.env } : {});
  const until = Date.now() + (options.timeoutMs ?? 30_000);
  const ready = () =>
    typeof options.ready === "string"
      ? proc.output().includes(options.ready)
      : options.ready.test(proc.output());
  while (!ready()) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null)
      throw new Error(`${name} exited before it was ready:\n${proc.output()}`);
    if (Date.now() > until) {
      await proc.stop("SIGKILL");
      throw new Error(`${name} was not ready in time:\n${proc.output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return proc;
}

/** A TCP listener on 127.0.0.1 forwarding each connection to a Unix socket. */
export async function tcpToUnix(
  socketPath: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const { createConnection, createServer } = await import("node:net");
  const sockets = new Set<import("node:net").Socket>();
  const server = createServer((client) => {
    const upstream = createConnection(socketPath);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as import("node:net").AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Runs `command` (a peer that binds every interface) inside new network and PID namespaces and
 * returns an http URL on 127.0.0.1 that reaches its `port` there (test/peers/in-netns.sh).
 */
export async function startInNetns(
  name: string,
  port: number,
  command: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ url: string; stop(): Promise<void> }> {
  const { mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const socket = resolve(mkdtempSync(resolve(tmpdir(), `${name}-`)), "peer.sock");
  const proc = await startPeer(
    name,
    "unshare",
    [...ISOLATED, "bash", resolve("test/peers/in-netns.sh"), socket, String(port), ...command],
    { env, ready: "bridge " },
  );
  const bridge = await tcpToUnix(socket);
  return {
    url: bridge.url,
    async stop() {
      await bridge.close();
      await proc.stop();
    },
  };
}
