import { chmodSync, existsSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { connect } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import type { Hono } from "hono";

/** `<state>/edge.sock`: where a running agent serves its local RPC. */
export const SOCKET_NAME = "edge.sock";

/**
 * Serves the RPC app on a Unix socket, readable and writable by the owner only (whoever can
 * connect can start runs). A socket file left by a killed agent is replaced; a live one means
 * another agent is serving and is an error.
 */
export async function serveRpc(app: Hono, socketPath: string): Promise<{ close(): Promise<void> }> {
  if (existsSync(socketPath)) {
    if (await answers(socketPath))
      throw new Error(`another agent is already serving ${socketPath}`);
    rmSync(socketPath, { force: true });
  }
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => {
      server.off("error", reject);
      resolve();
    });
  });
  chmodSync(socketPath, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        rmSync(socketPath, { force: true });
      }),
  };
}

/** Whether something accepts connections on the socket. */
export function answers(socketPath: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.end();
      resolve(true);
    });
    socket.once("error", () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}
