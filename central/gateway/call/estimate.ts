/** Tokens an image may cost at most (OpenAI's patch-based models reach about 2,500). */
export const IMAGE_TOKEN_BOUND = 3_000;

/**
 * Tokens a document may cost at most as the Worker counts it, knowing no model: what a
 * 200k-token context holds. A PDF's pages are not in the request when it is named by URL or file
 * id, and cost more than their bytes when inline (each page is read as text and as an image,
 * about 1,500-3,000 tokens), so neither its size nor a page count bounds it; a model's context
 * window does. The tenant object, which knows the route, raises the bound to the models' windows
 * (`withDocumentBound`). A call that asks Anthropic for its 1M context (the `context-1m` beta)
 * counts each at that (LONG_CONTEXT_TOKENS): the price table says 200k for those models.
 */
export const DOCUMENT_TOKEN_BOUND = 200_000;
export const LONG_CONTEXT_TOKENS = 1_000_000;

/** The per-document bound for a call: 1M when it asks Anthropic for the 1M context. */
export function documentBoundOf(anthropicBeta: string | null): number {
  return anthropicBeta?.split(",").some((beta) => beta.trim().startsWith("context-1m"))
    ? LONG_CONTEXT_TOKENS
    : DOCUMENT_TOKEN_BOUND;
}

type Node = Record<string, unknown>;

/**
 * Context a Responses request names but does not hold: the provider bills the stored
 * conversation a `previous_response_id` or `conversation` continues, and a stored `prompt`
 * template, none of which the body's size bounds. Each counts as a document would (at the route's
 * largest context window; never under a lease), or a small request could run any budget over.
 */
function storedContextOf(body: unknown): string[] {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return [];
  const b = body as Node;
  return (["previous_response_id", "conversation", "prompt"] as const).filter(
    (field) => b[field] !== undefined && b[field] !== null,
  );
}

/** An image part in any dialect, and its inline data (counted in the body's bytes), if any. */
function imageOf(node: Node): { inline: string | null } | null {
  // Chat: { type: "image_url", image_url: { url } }; Responses: { type: "input_image",
  // image_url?: string, file_id? }; Anthropic: { type: "image", source: { data? | url | file_id } }.
  if (node.type === "image_url" && node.image_url && typeof node.image_url === "object")
    return { inline: dataUrl((node.image_url as { url?: unknown }).url) };
  if (node.type === "input_image") return { inline: dataUrl(node.image_url) };
  if (node.type === "image" && node.source && typeof node.source === "object")
    return { inline: text((node.source as { data?: unknown }).data) };
  return null;
}

/** A document or file part whose pages the request does not bound, and its inline data. */
function documentOf(node: Node): { inline: string | null } | null {
  // Chat: { type: "file", file: { file_id | file_data } }; Responses: { type: "input_file",
  // file_id | file_url | file_data }; Anthropic: { type: "document", source } for a PDF by
  // base64, URL or file id (a text or content source is in the body, as any text is).
  if (node.type === "file" && node.file && typeof node.file === "object")
    return { inline: text((node.file as { file_data?: unknown }).file_data) };
  if (node.type === "input_file") return { inline: text(node.file_data) };
  if (node.type === "document" && node.source && typeof node.source === "object") {
    const source = node.source as { type?: unknown; data?: unknown };
    if (source.type === "text" || source.type === "content") return null;
    return { inline: text(source.data) };
  }
  return null;
}

const text = (value: unknown): string | null => (typeof value === "string" ? value : null);
const dataUrl = (value: unknown): string | null =>
  typeof value === "string" && value.startsWith("data:") ? value : null;

/** A request's input tokens at most, and the documents in it (see `withDocumentBound`). */
export interface InputBound {
  inputTokens: number;
  /** Per document the request names, the size of its inline data (0 when named by reference). */
  documents: number[];
  /** What each document was counted at (or its inline size, if larger): `documentBoundOf`. */
  documentBound: number;
}

/** What of a request is not counted by its bytes: its images and its documents. */
interface Attachments {
  images: number;
  /** Characters of inline image data (base64: one byte each), which the body's bytes hold. */
  imageBytes: number;
  /** Per document, the size of its inline data (0 when named by reference). */
  documents: number[];
}

function attachmentsOf(body: unknown): Attachments {
  const found: Attachments = { images: 0, imageBytes: 0, documents: [] };
  const visit = (value: unknown, depth: number): void => {
    if (depth > 64 || value === null || typeof value !== "object") return;
    if (Array.isArray(value)) {
      for (const item of value) visit(item, depth + 1);
      return;
    }
    const node = value as Node;
    const image = imageOf(node);
    if (image) {
      found.images += 1;
      found.imageBytes += image.inline?.length ?? 0;
      return;
    }
    const document = documentOf(node);
    if (document) {
      found.documents.push(document.inline?.length ?? 0);
      return;
    }
    for (const inner of Object.values(node)) visit(inner, depth + 1);
  };
  visit(body, 0);
  for (const _ of storedContextOf(body)) found.documents.push(0);
  return found;
}

/**
 * An upper bound on a request's input tokens, so a reservation can never be too small: a BPE
 * token is at least one byte, so the UTF-8 size of the request body (its JSON syntax included,
 * which covers per-message overhead) bounds the text; each image counts at the most an image
 * can cost rather than by the size of its base64 data, and each document at the most a
 * document can (DOCUMENT_TOKEN_BOUND), or its inline size if larger.
 */
export function inputTokenBound(
  bodyBytes: number,
  body: unknown,
  documentBound: number = DOCUMENT_TOKEN_BOUND,
): InputBound {
  const { images, imageBytes, documents } = attachmentsOf(body);
  const documentExtra = documents.reduce(
    (sum, inline) => sum + Math.max(0, documentBound - inline),
    0,
  );
  return {
    inputTokens: Math.max(1, bodyBytes - imageBytes) + images * IMAGE_TOKEN_BOUND + documentExtra,
    documents,
    documentBound,
  };
}

/** A rough count of the tokens in text: about four characters (or UTF-8 bytes) a token. */
export const roughTokens = (chars: number): number => Math.ceil(chars / 4);

/**
 * A request's input tokens as estimated for a provider that reported none: its text roughly
 * counted, and each image as `inputTokenBound` counts it, so the estimate stays within what
 * admission reserved (an image's base64 data, counted as text, would make hundreds of thousands
 * of tokens out of one image). A document counts by its inline data alone, as text.
 */
export function inputTokenEstimate(bodyBytes: number, body: unknown): number {
  const { images, imageBytes } = attachmentsOf(body);
  return roughTokens(Math.max(0, bodyBytes - imageBytes)) + images * IMAGE_TOKEN_BOUND;
}

/**
 * `bound` with its documents counted against the largest context window of the models the call
 * may go to (null: not in the price table): together they fit in the context, so they may cost
 * that window, less their inline bytes already counted; never less than `inputTokenBound`
 * counted them (each at its document bound), since a window from a price table is a model's
 * usual one, not a limit every request is held to.
 */
export function withDocumentBound<B extends InputBound>(
  bound: B,
  contextWindows: readonly (number | null)[],
): B {
  if (bound.documents.length === 0) return bound;
  const window = Math.max(0, ...contextWindows.map((w) => w ?? 0));
  const inline = bound.documents.reduce((sum, size) => sum + size, 0);
  const counted = bound.documents.reduce(
    (sum, size) => sum + Math.max(0, bound.documentBound - size),
    0,
  );
  const more = window - inline - counted;
  return more > 0 ? { ...bound, inputTokens: bound.inputTokens + more } : bound;
}
