import type { AdapterFactory } from "./adapter";
import { httpJsonAdapter } from "./http-json/adapter";

/** Adapter kinds by the `kind` of their declaration. Add ROS, Ray, vLLM, Zenoh here. */
export const ADAPTER_KINDS: Readonly<Record<string, AdapterFactory>> = {
  "http-json": httpJsonAdapter,
};
