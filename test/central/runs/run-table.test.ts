import { describe, expect, it } from "vitest";
import { PAGE_BYTES } from "../../../central/db/page";
import type { IntentList } from "../../../contract";
import { call, newTenant, submit } from "../support";

describe("intents as listed", () => {
  it("ends a page of large intents early by bytes, and its next gives the rest", async () => {
    const { admin } = await newTenant("rt");
    // Ten intents near the 256 KiB limit: 2.4 MB as sent (three bytes a character in UTF-8),
    // more than one answer carries.
    const notes = "中".repeat(80_000);
    const submitted: string[] = [];
    for (let i = 0; i < 10; i++)
      submitted.push(
        (await submit(admin, { targets: [{ app: "nobody" }], params: { prompt: `${i}`, notes } }))
          .intent.intent_id,
      );
    const seen: string[] = [];
    let before: string | null = null;
    let pages = 0;
    do {
      const response = await call(
        "GET",
        `/v1/intents?limit=500${before ? `&before=${before}` : ""}`,
        { key: admin },
      );
      const bytes = new Uint8Array(await response.arrayBuffer());
      const text = new TextDecoder().decode(bytes);
      expect(response.status, text).toBe(200);
      expect(bytes.byteLength).toBeLessThanOrEqual(PAGE_BYTES);
      const body = JSON.parse(text) as IntentList;
      seen.push(...body.intents.map((i) => i.intent.intent_id));
      before = body.next;
      pages += 1;
    } while (before !== null && pages < 10);
    expect(pages).toBeGreaterThan(1);
    expect(seen).toEqual(submitted.reverse());
  });
});
