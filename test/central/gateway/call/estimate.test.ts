import { describe, expect, it } from "vitest";
import { IMAGE_TOKEN_BOUND, inputTokenBound } from "../../../../central/gateway/call/estimate";

describe("input token bound", () => {
  it("is at least the UTF-8 size of the request, which bounds its tokens", () => {
    const body = { model: "m", messages: [{ role: "user", content: "Grüße ".repeat(100) }] };
    const bytes = new TextEncoder().encode(JSON.stringify(body)).length;
    expect(inputTokenBound(bytes, body)).toBe(bytes);
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
    expect(inputTokenBound(size, openai)).toBe(
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
    expect(inputTokenBound(asize, anthropic)).toBe(asize - data.length + 2 * IMAGE_TOKEN_BOUND);
  });
});
