import { z } from "zod";
import { AgentEvent } from "../../../contract";
import { compileFastCheck, type JsonSchema } from "./compile";
import { assertRepresentable } from "./representable";

let compiled: ((value: unknown) => boolean) | null = null;

/**
 * True when `value` (parsed from a log line) is a valid AgentEvent, or a StoredEvent with a
 * positive (safe) integer cursor, that the contract's zod schema would return unchanged. False means
 * "ask zod": the value may still be valid (zod fills in a default, strips an unknown key). Compiled
 * once per process from the contract's JSON Schema.
 */
export function isPlainAgentEvent(value: unknown): boolean {
  if (!compiled) {
    assertRepresentable(AgentEvent);
    const schema = z.toJSONSchema(AgentEvent, { io: "input", unrepresentable: "throw" });
    const check = compileFastCheck(schema as JsonSchema, { extraRootKeys: ["cursor"] });
    compiled = (v) => {
      if (!check(v)) return false;
      const cursor = (v as { cursor?: unknown }).cursor;
      return cursor === undefined || (Number.isSafeInteger(cursor) && (cursor as number) > 0);
    };
  }
  return compiled(value);
}
