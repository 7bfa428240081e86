import { describe, expect, it } from "vitest";
import {
  MAX_CALL_TOKENS,
  usageFromOpenAi,
  usageFromResponses,
} from "../../../../central/gateway/dialects/usage";

describe("an upstream's token counts", () => {
  it("are bounded, so the budget never charges what the event log cannot record", () => {
    expect(usageFromOpenAi({ prompt_tokens: 1e20, completion_tokens: 7 } as never)).toMatchObject({
      input: MAX_CALL_TOKENS,
      output: 7,
    });
    expect(
      usageFromResponses({ input_tokens: 12, output_tokens: Number.MAX_VALUE } as never),
    ).toMatchObject({ input: 12, output: MAX_CALL_TOKENS });
    expect(Number.isSafeInteger(MAX_CALL_TOKENS)).toBe(true);
  });
});
