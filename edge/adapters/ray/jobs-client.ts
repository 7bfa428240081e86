import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { type JsonValue, redactedExcerpt } from "../../../contract";

/** Logs come whole from the Jobs API; beyond this a job's logs are not worth reading here. */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/**
 * How a request failed: Ray answered (`http`, with its status; `invalid` for an answer that is
 * not JSON or too large), the request `timeout` passed, the connection was `refused` or broke
 * (`transport`), or the caller's signal `aborted` it.
 */
export type RayFailure = "http" | "invalid" | "timeout" | "refused" | "transport" | "aborted";

export class RayRequestError extends Error {
  constructor(
    message: string,
    readonly failure: RayFailure,
    readonly status?: number,
  ) {
    super(message);
  }

  /** Worth asking again: Ray may answer the same request once its dashboard is back. */
  get transient(): boolean {
    if (this.failure === "http") return (this.status ?? 0) >= 500;
    return this.failure === "timeout" || this.failure === "refused" || this.failure === "transport";
  }

  /** The request may have reached Ray, and its answer not us: a POST may have taken effect. */
  get unanswered(): boolean {
    return this.failure === "timeout" || this.failure === "transport" || this.failure === "aborted";
  }
}

export function isTransient(error: unknown): boolean {
  return error instanceof RayRequestError && error.transient;
}

/** A job's state as the Ray Jobs API reports it. */
export type RayJobStatus = "PENDING" | "RUNNING" | "STOPPED" | "SUCCEEDED" | "FAILED";
export const TERMINAL: ReadonlySet<RayJobStatus> = new Set(["STOPPED", "SUCCEEDED", "FAILED"]);

export interface RayJobInfo {
  submission_id: string;
  status: RayJobStatus;
  message?: string | null;
  error_type?: string | null;
  metadata?: Record<string, string> | null;
  start_time?: number | null;
  end_time?: number | null;
}

export interface RayJobSubmission {
  entrypoint: string;
  submission_id: string;
  metadata: Record<string, string>;
  runtime_env?: Record<string, JsonValue>;
  entrypoint_num_cpus?: number;
  entrypoint_num_gpus?: number;
  entrypoint_memory?: number;
  entrypoint_resources?: Record<string, number>;
}

/**
 * The Ray Jobs REST API (the dashboard's /api/jobs/): submit, status, logs, stop. Each request
 * has its own timeout; errors (RayRequestError) name the request, Ray's answer and the kind of
 * failure.
 */
export class RayJobsClient {
  constructor(
    private readonly address: string,
    private readonly headers: Record<string, string>,
    private readonly requestTimeoutMs: number,
  ) {}

  async submit(job: RayJobSubmission, signal?: AbortSignal): Promise<string> {
    const answer = (await this.request("POST", "/api/jobs/", job, signal)) as {
      submission_id?: string;
    };
    return answer.submission_id ?? job.submission_id;
  }

  async info(id: string, signal?: AbortSignal): Promise<RayJobInfo> {
    return (await this.request(
      "GET",
      `/api/jobs/${encodeURIComponent(id)}`,
      undefined,
      signal,
    )) as RayJobInfo;
  }

  async logs(id: string, signal?: AbortSignal): Promise<string> {
    const answer = (await this.request(
      "GET",
      `/api/jobs/${encodeURIComponent(id)}/logs`,
      undefined,
      signal,
    )) as { logs?: string };
    return answer.logs ?? "";
  }

  /** Asks Ray to stop the job; true when it was running. */
  async stop(id: string): Promise<boolean> {
    const answer = (await this.request("POST", `/api/jobs/${encodeURIComponent(id)}/stop`)) as {
      stopped?: boolean;
    };
    return answer.stopped === true;
  }

  /**
   * One request over node:http rather than fetch(): Ray's dashboard refuses POSTs it takes for
   * browser traffic, recognised by the Sec-Fetch-* headers fetch() always sends
   * (ray.dashboard.optional_utils.is_browser_request).
   */
  private async request(
    method: "GET" | "POST",
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const url = new URL(`${this.address.replace(/\/+$/, "")}${path}`);
    const timeout = AbortSignal.timeout(this.requestTimeoutMs);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let answer: { status: number; text: string };
    try {
      answer = await new Promise((resolve, reject) => {
        const request = (url.protocol === "https:" ? httpsRequest : httpRequest)(
          url,
          {
            method,
            headers: {
              accept: "application/json",
              ...(payload === undefined
                ? {}
                : {
                    "content-type": "application/json",
                    "content-length": Buffer.byteLength(payload),
                  }),
              ...this.headers,
            },
            signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
          },
          (response) => {
            const chunks: Buffer[] = [];
            let size = 0;
            response.on("data", (chunk: Buffer) => {
              size += chunk.length;
              if (size > MAX_RESPONSE_BYTES) {
                response.destroy(
                  new RayRequestError(
                    `Ray ${method} ${path} answered more than ${MAX_RESPONSE_BYTES} bytes`,
                    "invalid",
                  ),
                );
                return;
              }
              chunks.push(chunk);
            });
            response.on("error", reject);
            response.on("end", () =>
              resolve({
                status: response.statusCode ?? 0,
                text: Buffer.concat(chunks).toString("utf8"),
              }),
            );
          },
        );
        request.on("error", reject);
        request.end(payload);
      });
    } catch (error) {
      if (error instanceof RayRequestError) throw error;
      if (timeout.aborted)
        throw new RayRequestError(
          `Ray ${method} ${path} timed out after ${this.requestTimeoutMs} ms`,
          "timeout",
        );
      const code = (error as NodeJS.ErrnoException).code;
      throw new RayRequestError(
        `Ray ${method} ${url} failed: ${error instanceof Error ? error.message : String(error)}`,
        signal?.aborted ? "aborted" : code === "ECONNREFUSED" ? "refused" : "transport",
      );
    }
    if (answer.status < 200 || answer.status >= 300)
      throw new RayRequestError(
        `Ray ${method} ${path} answered HTTP ${answer.status}: ${redactedExcerpt(answer.text, 2_000)}`,
        "http",
        answer.status,
      );
    try {
      return JSON.parse(answer.text) as unknown;
    } catch {
      throw new RayRequestError(
        `Ray ${method} ${path} answered something that is not JSON: ${redactedExcerpt(answer.text, 500)}`,
        "invalid",
      );
    }
  }
}
