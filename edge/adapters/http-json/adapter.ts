import { Compile } from "typebox/compile";
import { type JsonValue, own, parse, redactedExcerpt } from "../../../contract";
import type { AdapterFactory, AdapterTool, ExecutionAdapter } from "../adapter";
import { errorText, resultOf } from "../call";
import { checkReferenceMap, resolveReferenceMap, resolveUrl, runValues } from "../references";
import { readCapped } from "../response-cap";
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
      // Sending and reading the body fail alike, naming the request: a body can stall too.
      let response: Response;
      let text: string;
      try {
        response = await send(
          { method: endpoint.method, url, body, headers },
          connection.baseUrl,
          signal ? AbortSignal.any([signal, timeout]) : timeout,
        );
        text = await readCapped(response, connection.maxBytes);
      } catch (error) {
        if (timeout.aborted)
          throw new Error(`${endpoint.method} ${url} timed out after ${connection.timeoutMs} ms`);
        throw new Error(`${endpoint.method} ${url} failed: ${errorText(error)}`);
      }
      if (!response.ok) {
        throw new Error(
          `${endpoint.method} ${url} answered HTTP ${response.status}${text ? `: ${redactedExcerpt(text, 2_000)}` : ""}`,
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
    const text = String(value);
    // encodeURIComponent leaves '.' and '..' as they are, and `new URL` would resolve them away,
    // taking the request out of the declared path; an empty value would drop a segment.
    if (text === "" || text === "." || text === "..")
      throw new Error(
        `path parameter '${name}' is ${JSON.stringify(text)}: it must not be empty, '.' or '..'`,
      );
    return encodeURIComponent(text);
  });
  const url = new URL(baseUrl + path);
  // Defence in depth: the declared headers (credentials) go only to URLs under base_url.
  if (!isUnder(url, baseUrl))
    throw new Error(`${url.origin}${url.pathname} is outside base_url ${baseUrl}; not sent`);
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

/** Whether `url` has base_url's origin and a path at or below base_url's path. */
function isUnder(url: URL, baseUrl: string): boolean {
  const base = new URL(baseUrl);
  if (url.origin !== base.origin) return false;
  const prefix = base.pathname.replace(/\/+$/, "");
  return prefix === "" || url.pathname === prefix || url.pathname.startsWith(`${prefix}/`);
}

/** How many redirects under base_url a call follows before it fails. */
const MAX_REDIRECTS = 5;

/**
 * Sends the request, following redirects only while they stay under base_url (same origin, same
 * path prefix) and at most MAX_REDIRECTS times; a redirect anywhere else fails the call, so the
 * declared headers never leave base_url. 303, and 301/302 after a POST, continue as a GET
 * without the body (as fetch does); 307 and 308 repeat the method and body.
 */
async function send(
  request: { method: string; url: string; body: unknown; headers: Record<string, string> },
  baseUrl: string,
  signal: AbortSignal,
): Promise<Response> {
  let { method, url, body } = request;
  for (let redirects = 0; ; redirects++) {
    const response = await fetch(url, {
      method,
      headers: {
        accept: "application/json",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...request.headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      redirect: "manual",
    });
    const location = REDIRECTS.has(response.status) ? response.headers.get("location") : null;
    if (location === null) return response;
    await discard(response);
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new Error(
        `HTTP ${response.status} redirect to an invalid URL ${JSON.stringify(location)}`,
      );
    }
    if (!isUnder(next, baseUrl))
      throw new Error(
        `HTTP ${response.status} redirect to ${next.origin}${next.pathname}, outside base_url ${baseUrl}; not followed`,
      );
    if (redirects >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
    if (response.status === 303 ? method !== "GET" : response.status <= 302 && method === "POST") {
      method = "GET";
      body = undefined;
    }
    url = next.toString();
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Releases a response's body unread (a redirect's), so its connection is not left open. */
async function discard(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // The body is of no interest; a failure to cancel it changes nothing for the call.
  }
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
