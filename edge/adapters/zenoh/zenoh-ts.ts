import { register } from "node:module";

type ZenohTs = typeof import("@eclipse-zenoh/zenoh-ts");

let loading: Promise<ZenohTs> | null = null;

/**
 * zenoh-ts, loaded on first use: it imports a WebAssembly module as an ES module, which Node
 * needs a module hook for (wasm-loader.mjs); loading it lazily keeps that off every agent that
 * has no Zenoh adapter.
 */
export function zenohTs(): Promise<ZenohTs> {
  loading ??= (async () => {
    register(new URL("./wasm-loader.mjs", import.meta.url));
    // zenoh-ts speaks to the remote-api plugin through the browser WebSocket API, which Node
    // has as a global only from 22 on; `ws` offers the same API.
    if (!globalThis.WebSocket) {
      const { WebSocket } = await import("ws");
      globalThis.WebSocket = WebSocket as unknown as typeof globalThis.WebSocket;
    }
    return import("@eclipse-zenoh/zenoh-ts");
  })();
  return loading;
}
