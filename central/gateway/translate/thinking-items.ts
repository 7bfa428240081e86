/**
 * Claude's thinking blocks carried through an OpenAI Responses client as reasoning items.
 * Anthropic needs the thinking that preceded a tool call sent back, signature and all, with the
 * tool's result; a Responses client sends back the reasoning items it got (Codex asks for their
 * `encrypted_content`). So a thinking block travels in that field, packed whole, and is unpacked
 * when the item comes back. Anthropic's signature is what vouches for it, not this packing.
 */

const PREFIX = "auraison.anthropic-thinking.v1.";

export type ThinkingBlock =
  | { type: "thinking"; thinking: string; signature: string }
  | { type: "redacted_thinking"; data: string };

function toBase64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  // In slices: spreading a long array into fromCharCode overflows the stack.
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function fromBase64(text: string): string {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new TextDecoder().decode(bytes);
}

export function packThinking(block: ThinkingBlock): string {
  return PREFIX + toBase64(JSON.stringify(block));
}

/** The thinking block a reasoning item carries; null for one that did not come from Claude. */
export function unpackThinking(encrypted: unknown): ThinkingBlock | null {
  if (typeof encrypted !== "string" || !encrypted.startsWith(PREFIX)) return null;
  try {
    const block = JSON.parse(fromBase64(encrypted.slice(PREFIX.length))) as ThinkingBlock;
    if (block.type === "thinking" && typeof block.thinking === "string") return block;
    if (block.type === "redacted_thinking" && typeof block.data === "string") return block;
  } catch {}
  return null;
}
