// Node's floor in the gateway comparison (bench/gateway-floors.ts): a server that only forwards
// each request to the mock provider with fetch() (undici, as Portkey's gateway does) and relays
// the answer. Run as its own process, as Portkey's is: node gateway-floor-node.mjs PORT UPSTREAM
import { createServer } from "node:http";
import { Readable } from "node:stream";

const [port, upstream] = process.argv.slice(2);
createServer(async (request, response) => {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  try {
    const answer = await fetch(upstream + request.url, {
      method: request.method,
      headers: {
        "content-type": request.headers["content-type"] ?? "application/json",
        authorization: request.headers.authorization ?? "",
      },
      body: chunks.length ? Buffer.concat(chunks) : undefined,
    });
    response.writeHead(answer.status, {
      "content-type": answer.headers.get("content-type") ?? "application/octet-stream",
    });
    if (answer.body) Readable.fromWeb(answer.body).pipe(response);
    else response.end();
  } catch (error) {
    response.writeHead(502).end(String(error));
  }
}).listen(Number(port), "127.0.0.1");
