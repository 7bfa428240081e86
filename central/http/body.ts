import type { z } from "zod";
import { check, Failure } from "../../contract";

/** Default cap on a JSON request body. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * Reads a JSON body of at most `limit` bytes and validates it against `schema`: 413 over the
 * limit (checked while streaming, not only from Content-Length), 415 for a non-JSON content
 * type, 400 for malformed JSON or a body that does not match (with each field's path).
 * An empty body is validated as `empty` when given, else refused.
 */
export async function readJson<S extends z.ZodType>(
  request: Request,
  schema: S,
  options: { limit?: number; empty?: unknown } = {},
): Promise<z.output<S>> {
  const type = request.headers.get("content-type");
  checkJsonType(type);
  return parseJson(
    (await readBodyText(request, options.limit ?? DEFAULT_BODY_LIMIT)).text,
    type,
    schema,
    options,
  );
}

/** 415 unless the declared type is JSON (a body without a type is read as JSON). */
export function checkJsonType(type: string | null): void {
  if (type && !/^application\/(?:[\w.+-]+\+)?json\b/i.test(type))
    throw new Failure(415, "unsupported_media_type", `expected application/json, got ${type}`);
}

/** Validates a body already read (readBodyText) as JSON against `schema`, as readJson does. */
export function parseJson<S extends z.ZodType>(
  text: string,
  type: string | null,
  schema: S,
  options: { empty?: unknown } = {},
): z.output<S> {
  checkJsonType(type);
  let value: unknown;
  if (text.trim() === "") {
    if (options.empty === undefined)
      throw new Failure(400, "invalid_request", "the request body is empty; expected JSON");
    value = options.empty;
  } else {
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new Failure(
        400,
        "malformed_json",
        `the request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  const parsed = check(schema, value);
  if (!parsed.ok) {
    const first = parsed.issues[0]!;
    // A rule between fields (a refinement) is not in the published schema: the body matches
    // the document and is still refused, which is a 422; anything the document rules out, 400.
    const semantic = parsed.issues.every((i) => i.code === "custom");
    throw new Failure(
      semantic ? 422 : 400,
      semantic ? "unprocessable" : "invalid_request",
      `invalid request body at ${first.path}: ${first.message}`,
      { issues: parsed.issues },
    );
  }
  return parsed.value;
}

/** Validates a query string against `schema` (400 with the parameter's name on a bad value). */
export function readQuery<S extends z.ZodType>(url: URL, schema: S): z.output<S> {
  // fromEntries defines keys, so `?__proto__=` is an unknown parameter, not a lost one.
  const parsed = check(schema, Object.fromEntries(url.searchParams));
  if (!parsed.ok) {
    const first = parsed.issues[0]!;
    throw new Failure(
      400,
      "invalid_request",
      `invalid query parameter ${first.path}: ${first.message}`,
      { issues: parsed.issues },
    );
  }
  return parsed.value;
}

/**
 * The body as text, at most `limit` bytes (413 past it, counted while streaming), and its size in
 * bytes: its declared length, else what was read.
 */
export async function readBodyText(
  request: Request,
  limit: number,
): Promise<{ text: string; bytes: number }> {
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await discard(request.body, DRAIN_LIMIT);
    throw tooLarge(limit);
  }
  if (!request.body) return { text: "", bytes: 0 };
  // A declared length frames the body (HTTP/1.1 and the runtime's own requests alike), so it
  // cannot grow past the check above: read it in one go, the runtime's native way.
  if (Number.isFinite(declared)) return { text: await request.text(), bytes: declared };
  const read = await readTextUpTo(request.body, limit, (reader) =>
    drain(reader, DRAIN_LIMIT - limit),
  );
  if (!read.complete) throw tooLarge(limit);
  return { text: read.text, bytes: read.bytes };
}

/**
 * A body's first `limit` bytes as text, how many bytes that is, and whether the body ended within
 * them. Past the limit the rest is left to `overflow` with the body's reader: a client's request
 * is drained (see DRAIN_LIMIT), an upstream's answer cancelled. For bodies of others' making:
 * the isolate's memory, which every tenant's requests in it share, holds at most `limit` bytes
 * of one.
 */
export async function readTextUpTo(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
  overflow: (reader: ReadableStreamDefaultReader<Uint8Array>) => Promise<void>,
): Promise<{ text: string; bytes: number; complete: boolean }> {
  if (!body) return { text: "", bytes: 0, complete: true };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let complete = true;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > limit) {
      chunks.push(value.subarray(0, limit - size));
      size = limit;
      complete = false;
      await overflow(reader);
      break;
    }
    size += value.byteLength;
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { text: new TextDecoder().decode(bytes), bytes: size, complete };
}

/**
 * How much of a body is read to its end before answering; past that it is cancelled. Answering
 * while the client is still sending breaks the next request on the same connection in some
 * HTTP proxies (wrangler dev's among them: its next POST gets 503, its next GET hangs), and
 * cancelling is not enough there: the bytes must be consumed.
 */
const DRAIN_LIMIT = 64 * 1024 * 1024;

/**
 * Consumes whatever of `request`'s body nothing read: every path that answers calls this
 * before its answer leaves (the Worker's and the tenant object's outermost middleware, the
 * WebSocket gate), so a refusal (401, 403, 404, 415, ...) never leaves bytes on the wire.
 */
export async function settleBody(request: Request): Promise<void> {
  const body = request.body;
  if (!body || request.bodyUsed || body.locked) return;
  try {
    await discard(body, DRAIN_LIMIT);
  } catch {
    // The client went away mid-body: nothing is left to protect.
  }
}

/** Hono middleware: the answer waits until the request body is consumed (see settleBody). */
export async function settleBodyAfter(
  c: { req: { raw: Request } },
  next: () => Promise<void>,
): Promise<void> {
  await next();
  await settleBody(c.req.raw);
}

async function discard(body: ReadableStream<Uint8Array> | null, budget: number): Promise<void> {
  if (body) await drain(body.getReader(), budget);
}

/** Reads `reader` to its end, or cancels it once `budget` bytes are read. */
async function drain(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  budget: number,
): Promise<void> {
  let left = budget;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    left -= value.byteLength;
    if (left < 0) {
      await reader.cancel();
      return;
    }
  }
}

function tooLarge(limit: number): Failure {
  return new Failure(413, "payload_too_large", `the request body is over ${limit} bytes`);
}
