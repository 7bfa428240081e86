import { describe, expect, it } from "vitest";
import {
  DOCUMENT_TOKEN_BOUND,
  documentBoundOf,
  IMAGE_TOKEN_BOUND,
  inputTokenBound,
  LONG_CONTEXT_TOKENS,
  withDocumentBound,
} from "../../../../central/gateway/call/estimate";

describe("input token bound", () => {
  it("is at least the UTF-8 size of the request, which bounds its tokens", () => {
    const body = { model: "m", messages: [{ role: "user", content: "Grüße ".repeat(100) }] };
    const bytes = new TextEncoder().encode(JSON.stringify(body)).length;
    expect(inputTokenBound(bytes, body).inputTokens).toBe(bytes);
  });

  it("counts an image at the most an image can cost, not by its base64 size", () => {
    const data = "A".repeat(200_000);
    const openai = {
      messages: [
        {
          role: "user",
          content: [{ type: "image_url", image_url: { url: `data:image/png;base64,${data}` } }],
        },
      ],
    };
    const size = JSON.stringify(openai).length;
    expect(inputTokenBound(size, openai).inputTokens).toBe(
      size - `data:image/png;base64,${data}`.length + IMAGE_TOKEN_BOUND,
    );
    const anthropic = {
      messages: [
        {
          role: "user",
          content: [
            { type: "image", source: { type: "base64", data } },
            { type: "image", source: { type: "url", url: "https://x" } },
          ],
        },
      ],
    };
    const asize = JSON.stringify(anthropic).length;
    expect(inputTokenBound(asize, anthropic).inputTokens).toBe(
      asize - data.length + 2 * IMAGE_TOKEN_BOUND,
    );
  });

  it("counts a Responses image, by URL or inline, at the most an image can cost", () => {
    const data = `data:image/png;base64,${"A".repeat(50_000)}`;
    const body = {
      input: [
        {
          role: "user",
          content: [
            { type: "input_image", image_url: "https://x/cat.png" },
            { type: "input_image", image_url: data },
            { type: "input_image", file_id: "file-1" },
          ],
        },
      ],
    };
    const size = JSON.stringify(body).length;
    expect(inputTokenBound(size, body).inputTokens).toBe(
      size - data.length + 3 * IMAGE_TOKEN_BOUND,
    );
  });

  it("counts a document its request does not hold at the most a document can cost, in every dialect", () => {
    const small = "JVBERi0x".repeat(10);
    const large = "A".repeat(DOCUMENT_TOKEN_BOUND + 1_000);
    const parts = [
      { type: "file", file: { file_id: "file-1" } },
      { type: "input_file", file_url: "https://x/report.pdf" },
      { type: "input_file", file_data: small },
      { type: "document", source: { type: "url", url: "https://x/report.pdf" } },
      { type: "document", source: { type: "base64", media_type: "application/pdf", data: large } },
    ];
    const body = { messages: [{ role: "user", content: parts }] };
    const size = JSON.stringify(body).length;
    // Three by reference, one inline but small, one inline larger than the bound (its bytes).
    expect(inputTokenBound(size, body).inputTokens).toBe(
      size + 3 * DOCUMENT_TOKEN_BOUND + (DOCUMENT_TOKEN_BOUND - small.length),
    );
    // A plain-text document is in the body, bounded by its bytes as any text is.
    const plain = {
      messages: [
        {
          role: "user",
          content: [{ type: "document", source: { type: "text", data: "notes".repeat(100) } }],
        },
      ],
    };
    const plainSize = JSON.stringify(plain).length;
    expect(inputTokenBound(plainSize, plain).inputTokens).toBe(plainSize);
  });

  it("counts a call's documents against its models' largest context window, never below 200k each", () => {
    const large = "A".repeat(300_000);
    const body = {
      messages: [
        {
          role: "user",
          content: [
            { type: "file", file: { file_id: "file-1" } },
            { type: "input_file", file_data: large },
          ],
        },
      ],
    };
    const size = JSON.stringify(body).length;
    const bound = inputTokenBound(size, body);
    expect(bound).toEqual({
      inputTokens: size + DOCUMENT_TOKEN_BOUND,
      documents: [0, 300_000],
      documentBound: DOCUMENT_TOKEN_BOUND,
    });
    // Both together in a 1M context: 1M, of which 300,000 are the inline bytes and 200,000 the
    // reference's bound, already counted.
    expect(withDocumentBound(bound, [128_000, 1_000_000, null]).inputTokens).toBe(
      size + DOCUMENT_TOKEN_BOUND + 500_000,
    );
    // A smaller window, or none known: as the Worker counted them.
    expect(withDocumentBound(bound, [128_000])).toBe(bound);
    expect(withDocumentBound(bound, [null])).toBe(bound);
    // Four references: 800,000 counted, the 1M context holds 200,000 more.
    const four = { inputTokens: 10 + 800_000, documents: [0, 0, 0, 0], documentBound: 200_000 };
    expect(withDocumentBound(four, [1_000_000]).inputTokens).toBe(10 + 1_000_000);
    const none = inputTokenBound(10, { messages: [] });
    expect(withDocumentBound(none, [1_000_000])).toBe(none);
  });

  it("counts the stored context a Responses request continues or names as documents", () => {
    for (const named of [
      { previous_response_id: "resp_1" },
      { conversation: "conv_1" },
      { prompt: { id: "pmpt_1" } },
    ]) {
      const body = { model: "m", input: "next", ...named };
      const size = JSON.stringify(body).length;
      expect(inputTokenBound(size, body)).toEqual({
        inputTokens: size + DOCUMENT_TOKEN_BOUND,
        documents: [0],
        documentBound: DOCUMENT_TOKEN_BOUND,
      });
    }
    const fresh = { model: "m", input: "first", previous_response_id: null };
    expect(inputTokenBound(10, fresh).documents).toEqual([]);
  });

  it("counts a document at 1M when the call asks Anthropic for its 1M context", () => {
    expect(documentBoundOf("context-1m-2025-08-07")).toBe(LONG_CONTEXT_TOKENS);
    expect(documentBoundOf("prompt-caching-2024-07-31, context-1m-2025-08-07")).toBe(1_000_000);
    expect(documentBoundOf("prompt-caching-2024-07-31")).toBe(DOCUMENT_TOKEN_BOUND);
    expect(documentBoundOf(null)).toBe(DOCUMENT_TOKEN_BOUND);
    const body = {
      messages: [{ role: "user", content: [{ type: "file", file: { file_id: "f" } }] }],
    };
    expect(inputTokenBound(100, body, LONG_CONTEXT_TOKENS).inputTokens).toBe(100 + 1_000_000);
  });
});
