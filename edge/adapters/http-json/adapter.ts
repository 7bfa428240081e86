import { Compile } from "typebox/compile";
import { type JsonValue, own, parse, truncateText } from "../../../contract";
import type { AdapterFactory, AdapterTool, ExecutionAdapter } from "../adapter";
import { resultOf } from "../call";
import { checkReferenceMap, resolveReferenceMap, resolveUrl, runValues } from "../references";
import { type HttpEndpoint, HttpJsonDeclaration } from "./declaration";

/** Turns each declared endpoint of an HTTP/JSON service into a tool. */
export const httpJsonAdapter: AdapterFactory = (declaration, { file, env, secrets }) => {
  const d = parse(HttpJsonDeclaration, declaration, file);
  const baseUrl = resolveUrl(d.base_url, env, file, "base_url");
  // Headers resolve per call, so a run's tenant secrets reach them; checked now for typos.
  checkReferenceMap(d.headers, env, secrets ?? [], file, "headers");
  const adapter: ExecutionAdapter = {
    kind: "http-json",
    name: d.name,
    tools: d.endpoints.map((endpoint) =>
      endpointTool(endpoint, {
        baseUrl: baseUrl.replace(/\/+$/, ""),
        headers: (runSecrets) =>
          resolveReferenceMap(d.headers, runValues(env, runSecrets), file, "headers"),
        timeoutMs: d.timeout_ms,
        maxBytes: d.max_response_bytes,
      }),
    ),
  };
  return adapter;
};

interface Connection {
  baseUrl: string;
  /** The declared headers with their references resolved for one call. */
  headers: (runSecrets: Readonly<Record<string, string>> | undefined) => Record<string, string>;
  timeoutMs: number;
  maxBytes: number;
}

function endpointTool(endpoint: HttpEndpoint, connection: Connection): AdapterTool {
  const checkOutput = endpoint.output_schema ? Compile(endpoint.output_schema as never) : null;
  return {
    name: endpoint.tool,
    description: endpoint.description,
    input_schema: endpoint.input_schema,
    ...(endpoint.output_schema ? { output_schema: endpoint.output_schema } : {}),
    async execute(args, { signal, secrets }) {
      const { url, body } = buildRequest(endpoint, connection.baseUrl, args);
      const headers = connection.headers(secrets);
      const timeout = AbortSignal.timeout(connection.timeoutMs);
      let response: Response;
      try {
        response = await fetch(url, {
          method: endpoint.method,
          headers: {
            accept: "application/json",
            ...(body === undefined ? {} : { "content-type": "application/json" }),
            ...headers,
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
      } catch (error) {
        if (timeout.aborted)
          throw new Error(`${endpoint.method} ${url} timed out after ${connection.timeoutMs} ms`);
        throw new Error(
          `${endpoint.method} ${url} failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      const text = await readCapped(response, connection.maxBytes);
      if (!response.ok) {
        throw new Error(
          `${endpoint.method} ${url} answered HTTP ${response.status}${text ? `: ${truncateText(text, 2_000)}` : ""}`,
        );
      }
      const output = parseBody(text, response.headers.get("content-type"));
      if (checkOutput && !checkOutput.Check(output)) {
        const problems = [...checkOutput.Errors(output)]
          .slice(0, 5)
          .map((e) => `${e.instancePath || "/"} ${e.message}`)
          .join("; ");
        throw new Error(
          `${endpoint.method} ${url}: response does not match output_schema: ${problems}`,
        );
      }
      return resultOf(output);
    },
  };
}

function buildRequest(
  endpoint: HttpEndpoint,
  baseUrl: string,
  args: Record<string, unknown>,
): { url: string; body: Record<string, unknown> | undefined } {
  const rest: Record<string, unknown> = { ...args };
  const path = endpoint.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = own(rest, name);
    delete rest[name];
    if (value === undefined || value === null) throw new Error(`missing path parameter '${name}'`);
    return encodeURIComponent(String(value));
  });
  const url = new URL(baseUrl + path);
  if (endpoint.method === "GET" || endpoint.method === "DELETE") {
    for (const [key, value] of Object.entries(rest)) {
      if (value === undefined || value === null) continue;
      for (const item of Array.isArray(value) ? value : [value])
        url.searchParams.append(
          key,
          typeof item === "object" ? JSON.stringify(item) : String(item),
        );
    }
    return { url: url.toString(), body: undefined };
  }
  return { url: url.toString(), body: rest };
}

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new Error(`response is larger than max_response_bytes (${maxBytes})`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseBody(text: string, contentType: string | null): JsonValue {
  if (text === "") return null;
  if (contentType?.includes("json") || /^\s*[[{"]/.test(text)) {
    try {
      return JSON.parse(text) as JsonValue;
    } catch {
      if (contentType?.includes("json"))
        throw new Error("response claims JSON but is not valid JSON");
    }
  }
  return text;
}
