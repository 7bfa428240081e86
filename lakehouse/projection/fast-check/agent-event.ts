import { AgentEvent } from "../../../contract/events/agent-event";
import { compileFastCheck } from "./compile";
import { fastCheckSchema } from "./representable";

let compiled: ((value: unknown) => number) | null = null;

/**
 * For a value parsed from a log line: the number of object keys it holds when it is a valid
 * AgentEvent, or a StoredEvent with a positive (safe) integer cursor, that the contract's zod
 * schema would return unchanged; -1 means "ask zod" (the value may still be valid: zod fills in
 * a default, strips an unknown key). Compiled once per process from the contract's JSON Schema.
 */
export function plainAgentEventKeys(value: unknown): number {
  if (!compiled) {
    const check = compileFastCheck(fastCheckSchema(AgentEvent), { extraRootKeys: ["cursor"] });
    compiled = (v) => {
      const keys = check(v);
      if (keys < 0) return -1;
      const cursor = (v as { cursor?: unknown }).cursor;
      return cursor === undefined || (Number.isSafeInteger(cursor) && (cursor as number) > 0)
        ? keys
        : -1;
    };
  }
  return compiled!(value);
}
