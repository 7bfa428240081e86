import { z } from "zod";

/**
 * `max_response_bytes`: the most of one answer a call reads, so a runaway generation or an
 * endpoint that streams without end fails the call instead of filling the agent's memory.
 */
export const MaxResponseBytes = z
  .number()
  .int()
  .positive()
  .max(64 * 1024 * 1024)
  .default(1024 * 1024);

/** What a call fails with once an answer passes `max_response_bytes`. */
export function tooLarge(maxBytes: number): Error {
  return new Error(`the answer is larger than max_response_bytes (${maxBytes} bytes)`);
}

/** A body as text, read only up to `maxBytes`: past that the rest is cancelled unread. */
export async function readCapped(response: Response, maxBytes: number): Promise<string> {
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
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}
