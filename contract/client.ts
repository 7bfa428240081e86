import type { z } from "zod";
import { ApiError } from "./api/errors";
import { Failure } from "./failure";
import { check } from "./validation";

/** Central could not be reached at all (refused, DNS, timeout). */
export class CentralUnreachableError extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(
      `central at ${url} is unreachable: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    this.name = "CentralUnreachableError";
  }
}

export interface CentralClientOptions {
  url: string;
  key: string;
  /** A request's whole time; a stream's time to answer. */
  timeoutMs?: number;
  /**
   * How long a stream may send nothing before it is taken for lost: above central's 15 s
   * keepalive, so only a dead connection reaches it.
   */
  idleTimeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * A thin client for central's platform API: bearer auth, JSON in and out, errors turned into
 * Failure, and every response validated against the contract schema the caller names.
 */
export class CentralClient {
  readonly url: string;
  private readonly key: string;
  private readonly timeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(options: CentralClientOptions) {
    this.url = options.url.replace(/\/+$/, "");
    this.key = options.key;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 45_000;
    this.fetchImpl = options.fetch ?? fetch;
  }

  async request<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<z.output<S>> {
    const response = await this.raw(method, path, body, headers);
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      throw new Failure(
        response.status,
        "invalid_response",
        `${method} ${path}: response is not JSON`,
      );
    }
    if (!response.ok) throw errorFrom(response.status, json, `${method} ${path}`);
    const parsed = check(schema, json);
    if (!parsed.ok) {
      const first = parsed.issues[0]!;
      throw new Failure(
        response.status,
        "invalid_response",
        `${method} ${path}: response does not match the contract at ${first.path}: ${first.message}`,
        { issues: parsed.issues },
      );
    }
    return parsed.value;
  }

  /** The raw Response, for callers that handle status themselves; read it within the timeout. */
  raw(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    return this.send(method, path, body, headers, AbortSignal.timeout(this.timeoutMs));
  }

  /**
   * A GET whose body streams for as long as central sends (SSE): it must answer within the
   * timeout, and is cut only when nothing arrives for the idle timeout, never for its length.
   */
  async stream(path: string, headers: Record<string, string> = {}): Promise<Response> {
    const abort = new AbortController();
    const connect = setTimeout(
      () => abort.abort(new Error(`GET ${path}: no answer within ${this.timeoutMs} ms`)),
      this.timeoutMs,
    );
    let response: Response;
    try {
      response = await this.send("GET", path, undefined, headers, abort.signal);
    } finally {
      clearTimeout(connect);
    }
    if (!response.body) return response;
    const body = idleLimited(response.body, this.idleTimeoutMs, () =>
      abort.abort(new Error(`GET ${path}: nothing received for ${this.idleTimeoutMs} ms`)),
    );
    return new Response(body, { status: response.status, headers: response.headers });
  }

  private async send(
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<Response> {
    const init: RequestInit = {
      method,
      headers: {
        authorization: `Bearer ${this.key}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      signal,
    };
    if (body !== undefined) init.body = JSON.stringify(body);
    try {
      return await this.fetchImpl(`${this.url}${path}`, init);
    } catch (error) {
      throw new CentralUnreachableError(this.url, error);
    }
  }
}

/** `body`, on which `onIdle` is called when a read waits `idleMs` for its chunk. */
function idleLimited(
  body: ReadableStream<Uint8Array>,
  idleMs: number,
  onIdle: () => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      // Timed only while a read waits, so nothing is left running once the reader stops.
      const timer = setTimeout(onIdle, idleMs);
      try {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } finally {
        clearTimeout(timer);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

function errorFrom(status: number, json: unknown, what: string): Failure {
  const parsed = ApiError.safeParse(json);
  if (!parsed.success) return new Failure(status, "http_error", `${what}: HTTP ${status}`);
  const { code, message, issues } = parsed.data.error;
  // Central's message often states the first issue already; say each thing once.
  const unsaid = (issues ?? [])
    .map((i) => `${i.path}: ${i.message}`)
    .filter((text) => !message.includes(text));
  const detail = unsaid.length ? ` (${unsaid.join("; ")})` : "";
  return new Failure(status, code, `${message}${detail}`, issues?.length ? { issues } : {});
}
