import { afterEach, describe, expect, it } from "vitest";
import { fakeJobsHarness, status } from "./fake-jobs-api";

/** Following a job through a dashboard that fails: the faults a real Ray head won't show on cue. */
const harness = fakeJobsHarness();
afterEach(() => harness.closeAll());
const trainTool = harness.train;

const SUMMARY = 'epoch 1\n{"loss": 0.1}\n';

describe("ray adapter following a job (a fake Jobs API)", () => {
  it("asks again after a status request fails transiently (HTTP 503, a timeout), and ends with the job", async () => {
    const { train, api } = await trainTool({
      info: (n) =>
        n === 2
          ? { status: 503, body: "restarting" }
          : n === 3
            ? "stall"
            : n < 6
              ? status("RUNNING")
              : status("SUCCEEDED"),
      logs: () => ({ body: { logs: SUMMARY } }),
    });
    const progress: string[] = [];
    const out = await train.execute({}, { progress: (p) => progress.push(p) });
    expect(out.output).toMatchObject({
      status: "SUCCEEDED",
      result: { loss: 0.1 },
      logs_cut: null,
    });
    expect(progress).toContainEqual(
      expect.stringMatching(/answered HTTP 503.*; asking again in \d+ ms/),
    );
    expect(progress).toContainEqual(expect.stringMatching(/timed out after 200 ms; asking again/));
    expect(api.of("stop")).toEqual([]);
  });

  it("reads the logs less often than the status; logs it cannot read only cut them", async () => {
    const huge = "x".repeat(17 * 1024 * 1024);
    const { train, api } = await trainTool(
      {
        info: (n) => status(n < 20 ? "RUNNING" : "SUCCEEDED"),
        logs: (n) => (n === 1 ? { body: { logs: SUMMARY } } : { body: { logs: huge } }),
      },
      // Time to send 17 MB on a busy machine.
      { request_timeout_ms: 10_000 },
    );
    const out = await train.execute({}, {});
    expect(out.output).toMatchObject({
      status: "SUCCEEDED",
      logs: SUMMARY,
      result: { loss: 0.1 },
      logs_cut: expect.stringMatching(
        /^the logs were cut: reading them failed \(Ray GET \S+\/logs answered more than 16777216 bytes\)/,
      ),
    });
    expect(api.of("info")).toHaveLength(20);
    // At the first poll, and once the job ended (the 20 polls take about a second).
    expect(api.of("logs")).toHaveLength(2);

    const { train: failing } = await trainTool({
      info: (n) => status(n < 3 ? "RUNNING" : "FAILED"),
      logs: (n) => (n === 1 ? { body: { logs: "loading shards\n" } } : { status: 503, body: "x" }),
    });
    await expect(failing.execute({}, {})).rejects.toThrow(
      /FAILED\nlogs:\nloading shards\n\n\(the logs were cut: reading them failed \(.*answered HTTP 503/,
    );
  });

  it("stops the job when the call ends for any reason but the job's end: a failure that is not transient, or the deadline", async () => {
    const { train: lost, api: lostApi } = await trainTool({
      info: (n, job) =>
        n === 2
          ? { status: 404, body: "no such job" }
          : status(job.stopped ? "STOPPED" : "RUNNING"),
    });
    await expect(lost.execute({}, {})).rejects.toThrow(
      /answered HTTP 404: .*no such job.*; the job was stopped \(STOPPED\)$/,
    );
    expect(lostApi.of("stop")).toHaveLength(1);

    const { train: down, api: downApi } = await trainTool(
      { info: (_, job) => (job.stopped ? status("STOPPED") : { status: 503, body: "down" }) },
      { timeout_ms: 600 },
    );
    await expect(down.execute({}, {})).rejects.toThrow(
      /^Ray job \S+ timed out after 600 ms; the job was stopped \(STOPPED\)$/,
    );
    expect(downApi.of("stop")).toHaveLength(1);
  });
});
