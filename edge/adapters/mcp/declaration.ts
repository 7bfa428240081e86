import { z } from "zod";
import { ToolPattern } from "../../../contract";
import { AdapterName, HttpUrl, TimeoutMs } from "../declaration";

const Common = {
  kind: z.literal("mcp"),
  /** The server's name; its tools are called mcp__<name>__<tool>. */
  name: AdapterName,
  description: z.string().max(1024).optional(),
  /**
   * The server's tools the agent may call (its own names, `*` globs). Absent: all of them.
   * Every tool the server lists is shown to the model; a call outside this list is refused by
   * the policy hook (rule `allowed_tools.mcp`), on the record like any refusal.
   */
  allowed_tools: z.array(ToolPattern).max(256).optional(),
  connect_timeout_ms: TimeoutMs.default(30_000),
  /** One tool call; a server's progress notifications do not extend it. */
  timeout_ms: TimeoutMs.default(300_000),
};

/** A server the agent starts and speaks to over stdin/stdout. */
const Stdio = z.strictObject({
  ...Common,
  transport: z.literal("stdio"),
  /** May be a ${NAME} reference: the interpreter or binary differs between hosts. */
  command: z.string().min(1),
  args: z.array(z.string()).max(256).default([]),
  /** Added to a minimal environment (PATH, HOME, ...); values may be ${NAME} references. */
  env: z.record(z.string(), z.string()).default({}),
  /** Relative to the declaration's folder. */
  cwd: z.string().optional(),
});

/** A server reached over MCP's Streamable HTTP transport. */
const Http = z.strictObject({
  ...Common,
  transport: z.literal("http"),
  url: HttpUrl,
  /** Values may be ${NAME} references (a bearer token). */
  headers: z.record(z.string(), z.string()).default({}),
});

/** `<app>/adapters/<name>.json` with `"kind": "mcp"`: an MCP server's tools as the agent's tools. */
export const McpDeclaration = z.discriminatedUnion("transport", [Stdio, Http]);
export type McpDeclaration = z.infer<typeof McpDeclaration>;
