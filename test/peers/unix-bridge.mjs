// Inside a network namespace of a test peer (Ray, an HTTP MCP server): accepts connections on a Unix socket (the file
// system is shared with the test outside) and forwards each to a TCP address in the namespace.
// Usage: node unix-bridge.mjs <socket path> <host:port>
import { createConnection, createServer } from "node:net";

const [socketPath, target] = process.argv.slice(2);
const [host, port] = target.split(":");
const server = createServer((client) => {
  const upstream = createConnection({ host, port: Number(port) });
  client.pipe(upstream).pipe(client);
  const end = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on("error", end);
  upstream.on("error", end);
});
server.listen(socketPath, () => console.log(`bridge ${socketPath} -> ${target}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
