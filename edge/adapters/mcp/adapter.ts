import { dirname, resolve } from "node:path";
import {
  type CallToolResult,
  createMcpToolName,
  McpClient,
  normalizeMcpInputSchema,
  StdioTransport,
  StreamableHttpTransport,
  type Tool,
  toLlmContent,
} from "@earendil-works/pi-mcp";
import {
  type JsonValue,
  type PolicyHook,
  parse,
  redactedExcerpt,
  toolAllowed,
} from "../../../contract";
import { minimalEnv } from "../../child-env";
import { AGENT_VERSION } from "../../version";
import type { AdapterFactory, AdapterTool, ExecutionAdapter } from "../adapter";
import { CallDeadline, errorText, resultOf } from "../call";
import { resolveReferenceMap, resolveReferences, resolveUrl } from "../references";
import { McpDeclaration } from "./declaration";

/**
 * An MCP server (stdio or Streamable HTTP) as a source of tools, through pi's MCP client. The
 * server's tools are listed at start; each call goes through the run's policy hook like any
 * tool, with the server's allow-list as one more rule, and is logged as tool_call events.
 */
export const mcpAdapter: AdapterFactory = (declaration, { file, env }) => {
  const d = parse(McpDeclaration, declaration, file);
  const connect = transportOf(d, file, env);
  let client: McpClient | null = null;
  let connecting: Promise<McpClient> | null = null;
  let closed = false;
  /** Registered tool name -> the server's name for it. */
  const serverNames = new Map<string, string>();

  /**
   * The connected client, connecting first when there is none. The connection is shared by
   * every caller, so it runs under the adapter's own deadline, never a caller's run: a run
   * cancelled meanwhile stops waiting for it (its call's deadline), not the others.
   */
  const session = (): Promise<McpClient> => {
    if (closed) return Promise.reject(new Error(`MCP server ${d.name}: the adapter is closed`));
    if (client) return Promise.resolve(client);
    connecting ??= (async () => {
      const next = new McpClient({ name: "auraison-edge", version: AGENT_VERSION });
      const deadline = new CallDeadline(
        `connecting to MCP server ${d.name}`,
        d.connect_timeout_ms,
        undefined,
      );
      const transport = connect();
      try {
        await deadline.guard(() => next.connect(transport));
      } catch (error) {
        await next.close().catch(() => undefined);
        throw withServerOutput(error, transport);
      }
      next.onClose(() => {
        if (client === next) client = null;
      });
      client = next;
      return next;
    })().finally(() => {
      connecting = null;
    });
    return connecting;
  };

  const adapter: ExecutionAdapter = {
    kind: "mcp",
    name: d.name,
    tools: [],
    async start() {
      const listed = await (await session()).listTools({ timeoutMs: d.connect_timeout_ms });
      const taken = new Set<string>();
      adapter.tools = listed.map((tool) => {
        const name = createMcpToolName(d.name, tool.name, (n) => taken.has(n));
        taken.add(name);
        serverNames.set(name, tool.name);
        return mcpTool(name, tool, d, session);
      });
    },
    policy: allowListRule(d.name, d.allowed_tools, serverNames),
    async close() {
      closed = true;
      const current = client ?? (await connecting?.catch(() => null)) ?? null;
      client = null;
      await current?.close().catch(() => undefined);
    },
  };
  return adapter;
};

function mcpTool(
  name: string,
  tool: Tool,
  d: McpDeclaration,
  session: () => Promise<McpClient>,
): AdapterTool {
  return {
    name,
    description: redactedExcerpt(
      [tool.title && tool.title !== tool.name ? tool.title : "", tool.description ?? tool.name]
        .filter(Boolean)
        .join(": "),
      1024,
    ),
    input_schema: normalizeMcpInputSchema(tool.inputSchema) as Record<string, unknown>,
    async execute(args, { signal, progress }) {
      const deadline = new CallDeadline(`MCP tool ${tool.name} of ${d.name}`, d.timeout_ms, signal);
      let result: CallToolResult;
      try {
        // The guard races the shared connection, like the call, against this call's own signal.
        result = await deadline.guard(async () =>
          (await session()).callTool(tool.name, args, {
            signal: deadline.signal,
            timeoutMs: d.timeout_ms,
            onProgress: (p) =>
              progress?.(
                `${p.progress}${p.total === undefined ? "" : `/${p.total}`}${p.message ? ` ${p.message}` : ""}`,
              ),
          }),
        );
      } catch (error) {
        throw new Error(errorText(error));
      }
      const text = toLlmContent(result)
        .map((c) => (c.type === "text" ? c.text : `[${c.type} ${c.mimeType}]`))
        .join("\n");
      // MCP reports a tool's failure in its result rather than as a protocol error.
      if (result.isError === true) throw new Error(text || `MCP tool ${tool.name} failed`);
      const output = (result.structuredContent ?? text) as JsonValue;
      return resultOf(output, text || JSON.stringify(output));
    },
  };
}

/**
 * A stdio server that dies while connecting says why on its stderr (a missing module, a bad
 * flag): its last lines go into the error, which "MCP connection closed" alone does not tell.
 */
function withServerOutput(error: unknown, transport: StdioTransport | StreamableHttpTransport) {
  const stderr = transport instanceof StdioTransport ? transport.stderr.trim() : "";
  if (stderr === "") return error;
  const tail = stderr.split("\n").slice(-5).join("\n");
  return new Error(
    `${errorText(error)}; the server's stderr ends:\n${redactedExcerpt(tail, 1_000)}`,
  );
}

/** The server's allow-list as a policy rule: it judges only this server's tools. */
function allowListRule(
  server: string,
  allowed: readonly string[] | undefined,
  serverNames: ReadonlyMap<string, string>,
): PolicyHook | undefined {
  if (allowed === undefined) return undefined;
  return (request) => {
    if (request.hook !== "tool_call") return null;
    const tool = serverNames.get(request.tool);
    if (tool === undefined) return null;
    if (toolAllowed(tool, allowed))
      return {
        effect: "allow",
        rule_id: "allowed_tools.mcp",
        reason: `'${tool}' is on ${server}'s allow-list`,
      };
    return {
      effect: "deny",
      rule_id: "allowed_tools.mcp",
      reason: `tool '${tool}' of MCP server '${server}' is not on its allow-list (allowed: ${allowed.length === 0 ? "none" : allowed.join(", ")})`,
    };
  };
}

function transportOf(d: McpDeclaration, file: string, env: NodeJS.ProcessEnv) {
  if (d.transport === "http") {
    const headers = resolveReferenceMap(d.headers, env, file, "headers");
    const url = resolveUrl(d.url, env, file, "url");
    return () => new StreamableHttpTransport({ url, headers });
  }
  // A minimal environment, as the MCP SDK gives stdio servers: the agent's own variables (its
  // key, provider keys) are not the server's to read.
  const serverEnv = { ...minimalEnv(), ...resolveReferenceMap(d.env, env, file, "env") };
  const command = resolveReferences(d.command, env, file, "command");
  const cwd = d.cwd ? resolve(dirname(file), d.cwd) : undefined;
  return () =>
    new StdioTransport({
      command,
      args: d.args,
      env: serverEnv,
      inheritEnv: false,
      ...(cwd ? { cwd } : {}),
      stderr: "pipe",
    });
}
