import { afterEach, describe, expect, it } from "vitest";
import { fakeJobsHarness } from "./fake-jobs-api";

const harness = fakeJobsHarness();
afterEach(() => harness.closeAll());

/** A dashboard that never answers the submission, having taken the job or not. */
const unansweredSubmit = (taken: boolean) =>
  harness.train({ submit: () => ({ taken, reply: "stall" }) }, { request_timeout_ms: 300 });

describe("ray adapter submitting a job (a fake Jobs API)", () => {
  it("when the submission's answer times out, finds the job Ray took by its submission id and stops it", async () => {
    const { train, api } = await unansweredSubmit(true);
    await expect(train.execute({}, {})).rejects.toThrow(
      /^Ray POST \/api\/jobs\/ timed out after 300 ms; Ray had taken the job; the job was stopped \(STOPPED\)$/,
    );
    expect(api.of("stop")).toHaveLength(1);
  });

  it("says so when Ray had not taken it, and stops nothing", async () => {
    const { train, api } = await unansweredSubmit(false);
    await expect(train.execute({}, {})).rejects.toThrow(
      /^Ray POST \/api\/jobs\/ timed out after 300 ms; Ray has no job by its submission id: it was not taken$/,
    );
    expect(api.of("info")).toHaveLength(1);
    expect(api.of("stop")).toEqual([]);
  });
});
