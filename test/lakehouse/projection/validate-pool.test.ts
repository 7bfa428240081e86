import { once } from "node:events";
import type { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { ValidatorPool } from "../../../lakehouse/projection/validate-pool";

const slice = [{ position: "a.ndjson:1", text: "{}" }];

describe("the validation threads", () => {
  it("fail the checks of a pool whose thread ended, then and later, and the next sync gets a new pool", async () => {
    const pool = await ValidatorPool.get();
    // `{}` is JSON but no AgentEvent: checked, and quarantined where it was.
    expect((await pool.validate(slice)).quarantined).toMatchObject([{ position: "a.ndjson:1" }]);
    const thread = (pool as unknown as { workers: Worker[] }).workers[0]!;
    const exited = once(thread, "exit");
    await thread.terminate();
    await exited;
    await expect(pool.validate(slice)).rejects.toThrow(/validation thread exited/);
    const next = await ValidatorPool.get();
    expect(next).not.toBe(pool);
    expect((await next.validate(slice)).excluded).toEqual([0]);
  });
});
