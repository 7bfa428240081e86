import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { app } from "../../../../central/app";
import { BOOTSTRAP_KEY, newTenant } from "../../support";
import { chatCompletion, labGateway, modelCalls, upstreamAnswers } from "./worker-calls";

/**
 * Workers cancels what a request still awaits once its client disconnects, except what it
 * passed to `waitUntil`. A call whose caller hangs up while the provider is still answering
 * (and billing) must settle all the same: else its spend is never counted, and hanging up
 * would be a way around a budget. Here the caller never reads its answer, and only what the
 * execution context waits for is taken to have happened.
 */

const UPSTREAM = "http://lab.test:8000/v1";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("a model call whose caller is gone", () => {
  it("is answered and settled within the request's waitUntil, not the caller's wait", async () => {
    const { admin } = await newTenant("gone");
    await labGateway(admin, UPSTREAM);
    let answer!: (response: Response) => void;
    let asked!: () => void;
    const reached = new Promise<void>((resolve) => {
      asked = resolve;
    });
    upstreamAnswers(UPSTREAM, () => {
      asked();
      return new Promise<Response>((resolve) => {
        answer = resolve;
      });
    });
    const ctx = createExecutionContext();
    const request = new Request("http://central/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      // A call with a document is admitted by the tenant object alone (no Worker lease, whose
      // close would keep the context open for its own sake).
      body: JSON.stringify({
        model: "auto",
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "summarise" },
              { type: "file", file: { file_id: "file-1" } },
            ],
          },
        ],
      }),
    });
    // The caller sends and hangs up: nobody awaits the answer.
    void app.fetch(request, { ...env, AURAISON_BOOTSTRAP_KEY: BOOTSTRAP_KEY }, ctx);
    await reached;
    const waited = waitOnExecutionContext(ctx);
    answer(chatCompletion());
    await waited;
    const [settled] = await modelCalls(admin);
    expect(settled).toMatchObject({ input_tokens: 1, output_tokens: 1, error_type: null });
  });
});
