import type { AdapterFactory } from "./adapter";
import { httpJsonAdapter } from "./http-json/adapter";
import { mcpAdapter } from "./mcp/adapter";
import { openAiInferenceAdapter } from "./openai-inference/adapter";
import { rayAdapter } from "./ray/adapter";
import { rosbridgeAdapter } from "./rosbridge/adapter";
import { zenohAdapter } from "./zenoh/adapter";

/** Adapter kinds by the `kind` of their declaration. */
export const ADAPTER_KINDS: Readonly<Record<string, AdapterFactory>> = {
  "http-json": httpJsonAdapter,
  mcp: mcpAdapter,
  "openai-inference": openAiInferenceAdapter,
  ray: rayAdapter,
  rosbridge: rosbridgeAdapter,
  zenoh: zenohAdapter,
};
