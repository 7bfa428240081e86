import { resolve } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startAdapters } from "../../../../edge/adapters/load";
import { mcpAdapter } from "../../../../edge/adapters/mcp/adapter";
import type { EdgeRuntime } from "../../../../edge/runtime";
import { startInNetns } from "../../../helpers/peers";
import { makeApp, ofKind, openRuntime } from "../../helpers/runtime";
import { declarationIssues, runAndCancelWhen } from "../helpers";

/** The reference MCP server from npm, over stdio and over Streamable HTTP. */
const EVERYTHING = resolve("node_modules/@modelcontextprotocol/server-everything/dist/index.js");
/** A server whose `crash` tool exits it, so that the next call reconnects. */
const CRASHING = resolve("test/edge/adapters/mcp/crashing-server.mjs");

const stdio = (overrides: Record<string, unknown> = {}) => ({
  kind: "mcp",
  name: "everything",
  transport: "stdio",
  command: process.execPath,
  args: [EVERYTHING, "stdio"],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the declaration's own ${NAME} syntax
  env: { LAB_MARKER: "${LAB_MARKER}" },
  allowed_tools: ["echo", "get-*", "trigger-long-running-operation"],
  timeout_ms: 20_000,
  ...overrides,
});
const env = { LAB_MARKER: "from-the-declaration" };

let http: Awaited<ReturnType<typeof startInNetns>>;
beforeAll(async () => {
  // server-everything's HTTP transport listens on every interface: it runs where only loopback is.
  http = await startInNetns(
    "mcp-everything",
    3001,
    [process.execPath, EVERYTHING, "streamableHttp"],
    {
      ...process.env,
      PORT: "3001",
    },
  );
}, 60_000);
afterAll(() => http?.stop());

let runtime: EdgeRuntime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

describe("mcp adapter (@modelcontextprotocol/server-everything)", () => {
  it("lists a stdio server's tools as mcp__<server>__<tool> and calls them", async () => {
    const adapter = mcpAdapter(stdio(), { file: "everything.json", env });
    try {
      await startAdapters([adapter]);
      const names = adapter.tools.map((t) => t.name);
      expect(names).toEqual(
        expect.arrayContaining([
          "mcp__everything__echo",
          "mcp__everything__get_sum",
          "mcp__everything__get_env",
        ]),
      );
      const tool = (n: string) => adapter.tools.find((t) => t.name === `mcp__everything__${n}`)!;
      expect(tool("echo").input_schema).toMatchObject({
        type: "object",
        properties: { message: { type: "string" } },
      });
      expect((await tool("echo").execute({ message: "hello lab" }, {})).output).toBe(
        "Echo: hello lab",
      );
      expect((await tool("get_sum").execute({ a: 2, b: 40 }, {})).text).toMatch(/42/);
      // The server sees the declared environment and not the agent's own variables.
      process.env.AURAISON_KEY_PROBE = "secret";
      const seen = String((await tool("get_env").execute({}, {})).output);
      delete process.env.AURAISON_KEY_PROBE;
      expect(seen).toContain("from-the-declaration");
      expect(seen).not.toContain("AURAISON_KEY_PROBE");
    } finally {
      await adapter.close?.();
    }
  });

  it("speaks Streamable HTTP, streams progress, and fails a call that runs past its timeout", async () => {
    const adapter = mcpAdapter(
      { kind: "mcp", name: "remote", transport: "http", url: `${http.url}/mcp`, timeout_ms: 1_500 },
      { file: "remote.json", env: {} },
    );
    try {
      await startAdapters([adapter]);
      const long = adapter.tools.find(
        (t) => t.name === "mcp__remote__trigger_long_running_operation",
      )!;
      const progress: string[] = [];
      const out = await long.execute(
        { duration: 0.6, steps: 3 },
        { progress: (p) => progress.push(p) },
      );
      expect(out.output).toMatch(/Long running operation completed/);
      expect(progress).toEqual(["1/3", "2/3", "3/3"]);
      await expect(long.execute({ duration: 10, steps: 2 }, {})).rejects.toThrow(
        /timed out after 1500 ms/,
      );
    } finally {
      await adapter.close?.();
    }
  });

  it("refuses to start when the server cannot be reached, and bad declarations with the field at fault", async () => {
    const down = mcpAdapter(stdio({ command: "/nonexistent/mcp-server" }), { file: "x.json", env });
    await expect(startAdapters([down])).rejects.toThrow(
      /adapters failed to start: everything \(mcp\)/,
    );
    // A server that dies while connecting (its command a reference, resolved at start): its
    // last stderr lines say why.
    const dies = mcpAdapter(
      stdio({
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the declaration's own ${NAME} syntax
        command: "${MCP_NODE:-/nonexistent/node}",
        args: [
          "-e",
          "console.error('loading'); console.error('No module named fastmcp'); process.exit(1)",
        ],
      }),
      { file: "x.json", env: { ...env, MCP_NODE: process.execPath } },
    );
    await expect(startAdapters([dies])).rejects.toThrow(
      /everything \(mcp\): .*; the server's stderr ends:\nloading\nNo module named fastmcp$/,
    );
    expect(declarationIssues(mcpAdapter, stdio({ transport: "ws" }), env)).toEqual(["transport"]);
    expect(declarationIssues(mcpAdapter, stdio({ allowed_tools: ["bad name!"] }), env)).toEqual([
      "allowed_tools[0]",
    ]);
    expect(() => mcpAdapter(stdio(), { file: "x.json", env: {} })).toThrow(/LAB_MARKER is not set/);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the declaration's own ${NAME} syntax
    expect(declarationIssues(mcpAdapter, stdio({ command: "${MCP_NODE}" }), env)).toEqual([
      "command",
    ]);
  });

  it("reconnects to a server that exited under the adapter's deadline: a run cancelled meanwhile stops only its own call", async () => {
    const adapter = mcpAdapter(
      {
        kind: "mcp",
        name: "crashing",
        transport: "stdio",
        command: process.execPath,
        args: [CRASHING],
      },
      { file: "crashing.json", env: {} },
    );
    try {
      await startAdapters([adapter]);
      const tool = (n: string) => adapter.tools.find((t) => t.name === `mcp__crashing__${n}`)!;
      await expect(tool("crash").execute({}, {})).rejects.toThrow(/closed/);
      // Both calls wait for the one reconnect; the first one's run is cancelled meanwhile.
      const runA = new AbortController();
      const a = tool("echo").execute({}, { signal: runA.signal });
      const b = tool("echo").execute({}, { signal: new AbortController().signal });
      runA.abort();
      await expect(a).rejects.toThrow(/MCP tool echo of crashing was stopped: the run is stopping/);
      expect((await b).text).toBe("echo ok");
    } finally {
      await adapter.close?.();
    }
  });

  it("in a run: calls are tool_call events through the policy hook; the allow-list blocks; cancel stops a call", async () => {
    const app = makeApp({ adapters: { everything: stdio() } });
    runtime = await openRuntime(
      app,
      [
        { tool: "mcp__everything__echo", args: { message: "ping" } },
        { tool: "mcp__everything__toggle_simulated_logging", args: {} },
        {
          tool: "mcp__everything__trigger_long_running_operation",
          args: { duration: 30, steps: 30 },
        },
        { text: "never" },
      ],
      { env },
    );
    const { record, events, cancelled } = await runAndCancelWhen(
      runtime,
      "use the server",
      (evs) => ofKind(evs, "tool_call_progress").length > 0,
    );
    expect(cancelled).toBe(true);
    expect(record.status).toBe("cancelled");
    const started = ofKind(events, "tool_call_started").map((e) => e.payload);
    expect(started.map((s) => [s.tool, s.tool_type])).toEqual([
      ["mcp__everything__echo", "extension"],
      ["mcp__everything__toggle_simulated_logging", "extension"],
      ["mcp__everything__trigger_long_running_operation", "extension"],
    ]);
    const finished = ofKind(events, "tool_call_finished").map((e) => e.payload);
    expect(finished.map((f) => f.status)).toEqual(["ok", "blocked", "error"]);
    expect(finished[0]!.result).toBe("Echo: ping");
    expect(finished[1]).toMatchObject({
      blocked_by: "allowed_tools.mcp",
      error_type: "policy_denied",
    });
    expect(finished[1]!.error_message).toMatch(
      /tool 'toggle-simulated-logging' of MCP server 'everything' is not on its allow-list/,
    );
    expect(finished[2]!.error_message).toMatch(/was stopped: the run is stopping/);
    const decisions = ofKind(events, "policy_decision").map((e) => e.payload);
    expect(
      decisions
        .filter((d) => d.decision.rule_id === "allowed_tools.mcp")
        .map((d) => d.decision.effect),
    ).toEqual(["allow", "deny", "allow"]);
    expect(ofKind(events, "tool_call_progress")[0]!.payload.partial).toMatch(/^1\/30$/);
  });
});
