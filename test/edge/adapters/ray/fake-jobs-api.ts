import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { AdapterTool } from "../../../../edge/adapters/adapter";
import { rayAdapter } from "../../../../edge/adapters/ray/adapter";

/** An answer of the fake: a status and JSON body, or none at all (a stalled dashboard). */
export type FakeReply = { status?: number; body?: unknown } | "stall";

export interface FakeJobsRoutes {
  /** The n-th submission (from 1); by default Ray takes the job and answers. */
  submit?: (n: number) => { taken: boolean; reply: FakeReply };
  /** The n-th status request of a job Ray took; by default RUNNING until stopped. */
  info?: (n: number, job: { stopped: boolean }) => FakeReply;
  /** The n-th logs request; by default no logs. */
  logs?: (n: number) => FakeReply;
}

/**
 * A Ray dashboard's Jobs API on 127.0.0.1 whose answers a test scripts, for the faults a real
 * head cannot be made to show on cue (a 5xx, a stall, a lost answer). It records every request,
 * and a stopped job reports STOPPED.
 */
export async function fakeJobsApi(routes: FakeJobsRoutes = {}) {
  const requests: string[] = [];
  const jobs = new Map<string, { stopped: boolean }>();
  const counts = { submit: 0, info: 0, logs: 0 };
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      requests.push(`${req.method} ${req.url}`);
      const send = (reply: FakeReply) => {
        if (reply === "stall") return;
        res.statusCode = reply.status ?? 200;
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(reply.body ?? {}));
      };
      const [, id, action] = /^\/api\/jobs\/([^/]*)\/?([a-z]*)$/.exec(req.url ?? "") ?? [];
      if (req.method === "POST" && id === "") {
        const submissionId = (JSON.parse(body) as { submission_id: string }).submission_id;
        const { taken, reply } = routes.submit?.(++counts.submit) ?? {
          taken: true,
          reply: { body: { submission_id: submissionId } },
        };
        if (taken) jobs.set(submissionId, { stopped: false });
        return send(reply);
      }
      const job = id ? jobs.get(decodeURIComponent(id)) : undefined;
      if (!job) return send({ status: 404, body: { error: `no job ${id}` } });
      if (req.method === "POST" && action === "stop") {
        const running = !job.stopped;
        job.stopped = true;
        return send({ body: { stopped: running } });
      }
      if (action === "logs") return send(routes.logs?.(++counts.logs) ?? { body: { logs: "" } });
      send(
        routes.info?.(++counts.info, job) ?? {
          body: { submission_id: id, status: job.stopped ? "STOPPED" : "RUNNING" },
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    /** The requests of one kind: "stop", "logs", "info" (a job's status) or "submit". */
    of(kind: "stop" | "logs" | "info" | "submit"): string[] {
      return requests.filter((r) => {
        if (kind === "submit") return r === "POST /api/jobs/";
        if (kind === "info") return /^GET \/api\/jobs\/[^/]+$/.test(r);
        return r.endsWith(`/${kind}`);
      });
    },
    async close(): Promise<void> {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A job status answer. */
export const status = (s: string): FakeReply => ({ body: { submission_id: "job", status: s } });

type FakeJobsApi = Awaited<ReturnType<typeof fakeJobsApi>>;

/**
 * A `train` tool (poll every 50 ms, requests time out after 200 ms) on a fake dashboard that
 * answers as `routes` say; `closeAll` after each test closes the dashboards.
 */
export function fakeJobsHarness() {
  const apis: FakeJobsApi[] = [];
  return {
    async train(
      routes: FakeJobsRoutes,
      overrides: Record<string, unknown> = {},
    ): Promise<{ train: AdapterTool; api: FakeJobsApi }> {
      const api = await fakeJobsApi(routes);
      apis.push(api);
      const adapter = rayAdapter(
        {
          kind: "ray",
          name: "cluster",
          address: api.url,
          poll_interval_ms: 50,
          request_timeout_ms: 200,
          stop_grace_ms: 2_000,
          timeout_ms: 10_000,
          tools: [{ tool: "train", description: "Train.", entrypoint: "python train.py" }],
          ...overrides,
        },
        { file: "cluster.json", env: {} },
      );
      return { train: adapter.tools[0]!, api };
    },
    async closeAll(): Promise<void> {
      for (const api of apis.splice(0)) await api.close();
    },
  };
}
