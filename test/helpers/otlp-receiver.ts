import { spawnSync } from "node:child_process";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../cli/wrangler";

const PYTHONPATH = join(PROJECT_ROOT, ".otlp", "python");

export interface DecodedSpan {
  trace_id: string;
  span_id: string;
  parent_span_id: string;
  name: string;
  kind: string;
  start: number;
  end: number;
  status: string;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
}

/**
 * ExportTraceServiceRequests → spans, by opentelemetry-proto's generated classes: protobuf bytes
 * parsed as they are; OTLP/JSON parsed strictly by protobuf's JSON mapping (an unknown field or
 * a wrong type fails), after OTLP's one exception to that mapping, hex trace and span ids (of
 * exactly 16 and 8 bytes).
 */
const DECODE = `
import sys, json, base64
from google.protobuf.json_format import MessageToDict, ParseDict
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
def value(v):
    d = MessageToDict(v)
    (k, x), = d.items()
    if k == "arrayValue": return [value_of(e) for e in x.get("values", [])]
    return int(x) if k == "intValue" else x
def value_of(e):
    (k, x), = e.items()
    return int(x) if k == "intValue" else x
def ids_to_base64(span):
    for key, size in (("traceId", 16), ("spanId", 8), ("parentSpanId", 8)):
        if key in span:
            raw = bytes.fromhex(span[key])
            if len(raw) != size: raise ValueError(f"{key} {span[key]!r} is not {size} bytes")
            span[key] = base64.b64encode(raw).decode()
def from_json(text):
    doc = json.loads(text)
    for rs in doc.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            for span in ss.get("spans", []): ids_to_base64(span)
    return ParseDict(doc, ExportTraceServiceRequest())
out = []
bodies = json.load(sys.stdin)
requests = [ExportTraceServiceRequest.FromString(bytes.fromhex(b)) for b in bodies["protobuf"]]
requests += [from_json(text) for text in bodies["json"]]
for req in requests:
    for rs in req.resource_spans:
        resource = {a.key: value(a.value) for a in rs.resource.attributes}
        for ss in rs.scope_spans:
            for s in ss.spans:
                out.append({
                    "trace_id": s.trace_id.hex(), "span_id": s.span_id.hex(),
                    "parent_span_id": s.parent_span_id.hex(), "name": s.name,
                    "kind": Span.SpanKind.Name(s.kind), "start": s.start_time_unix_nano,
                    "end": s.end_time_unix_nano, "status": Status.StatusCode.Name(s.status.code),
                    "attributes": {a.key: value(a.value) for a in s.attributes},
                    "resource": resource,
                })
print(json.dumps(out))
`;

/**
 * ExportTraceServiceRequest bodies → spans, decoded with the OTLP protobuf definitions
 * themselves (PyPI's opentelemetry-proto in .otlp/, `npm run otlp:python`).
 */
export function decodeOtlpTraces(bodies: Buffer[], jsonBodies: Buffer[] = []): DecodedSpan[] {
  const result = spawnSync("python3", ["-c", DECODE], {
    input: JSON.stringify({
      protobuf: bodies.map((b) => b.toString("hex")),
      json: jsonBodies.map((b) => b.toString("utf8")),
    }),
    encoding: "utf8",
    env: { ...process.env, PYTHONPATH },
  });
  if (result.status !== 0) throw new Error(`decoding OTLP failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as DecodedSpan[];
}

export type OtlpReceiver = Awaited<ReturnType<typeof otlpReceiver>>;

/**
 * An OTLP/HTTP receiver on 127.0.0.1: the bodies (protobuf and JSON apart) and headers of what
 * it was sent. Any other content type is refused with 415, as a collector does.
 */
export async function otlpReceiver() {
  const bodies: Buffer[] = [];
  const jsonBodies: Buffer[] = [];
  const headers: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v1/traces") return void res.writeHead(404).end();
      const type = req.headers["content-type"]?.split(";")[0]?.trim();
      const json = type === "application/json";
      if (!json && type !== "application/x-protobuf") return void res.writeHead(415).end();
      (json ? jsonBodies : bodies).push(Buffer.concat(chunks));
      headers.push(req.headers);
      res.writeHead(200, { "content-type": type }).end(json ? "{}" : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    jsonBodies,
    headers,
    /** Every span received so far, decoded and checked against the OTLP definitions. */
    spans: () => decodeOtlpTraces(bodies, jsonBodies),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
