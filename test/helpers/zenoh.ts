import { freePort, type ManagedProcess } from "../../cli/local-stack/processes";
import { pythonEnv, requirePeer, startPeer, ZENOH_ROUTER } from "./peers";

/** The ports of a test's Zenoh router: Zenoh's own (tcp) and the remote-api websocket. */
export interface ZenohPorts {
  tcp: number;
  ws: number;
}

/**
 * A real Zenoh router (the zenoh runtime with the official remote-api plugin, built from crates
 * by `npm run peers`) on loopback, without scouting. Give `ports` to start it again where it was.
 */
export async function startZenohRouter(ports?: ZenohPorts): Promise<{
  proc: ManagedProcess;
  ports: ZenohPorts;
  /** What the zenoh adapter's `locator` names: the remote-api websocket. */
  locator: string;
  /** Where Zenoh peers connect. */
  endpoint: string;
}> {
  const { tcp, ws } = ports ?? { tcp: await freePort(), ws: await freePort() };
  const proc = await startPeer(
    "zenoh-router",
    requirePeer(ZENOH_ROUTER, "the Zenoh router"),
    [
      JSON.stringify({
        mode: "router",
        listen: { endpoints: [`tcp/127.0.0.1:${tcp}`] },
        scouting: { multicast: { enabled: false }, gossip: { enabled: false } },
        plugins: { remote_api: { websocket_port: `127.0.0.1:${ws}` } },
      }),
    ],
    { ready: "zenoh-router ready" },
  );
  return {
    proc,
    ports: { tcp, ws },
    locator: `ws/127.0.0.1:${ws}`,
    endpoint: `tcp/127.0.0.1:${tcp}`,
  };
}

/** A Python peer on eclipse-zenoh (test/peers/zenoh/*.py), started once it prints `ready`. */
export function startZenohPython(name: string, script: string, args: string[]) {
  return startPeer(name, "python3", [script, ...args], { env: pythonEnv(), ready: /^ready$/m });
}
