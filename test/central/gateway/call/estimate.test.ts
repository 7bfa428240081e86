import { describe, expect, it } from "vitest";
import {
  DOCUMENT_TOKEN_BOUND,
  documentTokenBound,
  IMAGE_TOKEN_BOUND,
  inputTokenBound,
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

  it("bounds each document by the largest context window of the models a call may go to", () => {
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
    expect(bound).toEqual({ inputTokens: size + DOCUMENT_TOKEN_BOUND, documents: [0, 300_000] });
    // A 1M window: each document at 1M, less what its inline bytes already count.
    expect(withDocumentBound(bound, 1_000_000).inputTokens).toBe(size + 1_000_000 + 700_000);
    // A 128k window: the reference at 128k, the inline one at its bytes.
    expect(withDocumentBound(bound, 128_000).inputTokens).toBe(size + 128_000);
    expect(withDocumentBound(bound, DOCUMENT_TOKEN_BOUND)).toBe(bound);
    const none = inputTokenBound(10, { messages: [] });
    expect(withDocumentBound(none, 1_000_000)).toBe(none);
    // A model whose window is not known counts as a 200k context; no model, the same.
    expect(documentTokenBound([128_000, 1_000_000, null])).toBe(1_000_000);
    expect(documentTokenBound([128_000, null])).toBe(DOCUMENT_TOKEN_BOUND);
    expect(documentTokenBound([128_000])).toBe(128_000);
    expect(documentTokenBound([])).toBe(DOCUMENT_TOKEN_BOUND);
  });
});
