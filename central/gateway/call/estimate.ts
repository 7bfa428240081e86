/** Tokens an image may cost at most (OpenAI's patch-based models reach about 2,500). */
export const IMAGE_TOKEN_BOUND = 3_000;

/**
 * An upper bound on a request's input tokens, so a reservation can never be too small: a BPE
 * token is at least one byte, so the UTF-8 size of the request body (its JSON syntax included,
 * which covers per-message overhead) bounds the text, and each image counts at the most an image
 * can cost rather than by the size of its base64 data.
 */
export function inputTokenBound(bodyBytes: number, body: unknown): number {
  let imageBytes = 0;
  let images = 0;
  const visit = (value: unknown, depth: number): void => {
    if (depth > 64 || value === null || typeof value !== "object") return;
    if (Array.isArray(value)) {
      for (const item of value) visit(item, depth + 1);
      return;
    }
    const node = value as Record<string, unknown>;
    if (node.type === "image_url" && node.image_url && typeof node.image_url === "object") {
      images += 1;
      const url = (node.image_url as { url?: unknown }).url;
      if (typeof url === "string" && url.startsWith("data:")) imageBytes += url.length;
      return;
    }
    if (node.type === "image" && node.source && typeof node.source === "object") {
      images += 1;
      const data = (node.source as { data?: unknown }).data;
      if (typeof data === "string") imageBytes += data.length;
      return;
    }
    for (const inner of Object.values(node)) visit(inner, depth + 1);
  };
  visit(body, 0);
  return Math.max(1, bodyBytes - imageBytes) + images * IMAGE_TOKEN_BOUND;
}
