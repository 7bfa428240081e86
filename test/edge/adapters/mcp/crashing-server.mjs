// A minimal MCP stdio server with two tools: `echo` answers, `crash` exits without answering.
import { createInterface } from "node:readline";

const send = (message) =>
  process.stdout.write(`${JSON.stringify({ jsonrpc: "2.0", ...message })}\n`);
const tools = [
  { name: "echo", inputSchema: { type: "object" } },
  { name: "crash", inputSchema: { type: "object" } },
];
createInterface({ input: process.stdin }).on("line", (line) => {
  const { id, method, params } = JSON.parse(line);
  if (method === "initialize")
    send({
      id,
      result: {
        protocolVersion: params.protocolVersion,
        capabilities: { tools: {} },
        serverInfo: { name: "crashing", version: "1" },
      },
    });
  else if (method === "tools/list") send({ id, result: { tools } });
  else if (method === "tools/call" && params.name === "crash") process.exit(1);
  else if (method === "tools/call")
    send({ id, result: { content: [{ type: "text", text: "echo ok" }] } });
});
