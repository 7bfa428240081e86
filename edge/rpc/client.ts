import { request } from "node:http";
import { type AgentEvent, ApiError, check, Failure } from "../../contract";
import { RunRecord } from "../runs/run-record";
import { AgentHealth, RunRecordList } from "./schemas";

/** A client for a running agent's local RPC over its Unix socket. */
export class RpcClient {
  constructor(readonly socketPath: string) {}

  async health(): Promise<AgentHealth> {
    return AgentHealth.parse(await this.json("GET", "/health"));
  }

  async startRun(body: unknown): Promise<RunRecord> {
    return RunRecord.parse(await this.json("POST", "/runs", body));
  }

  async run(id: string): Promise<RunRecord> {
    return RunRecord.parse(await this.json("GET", `/runs/${encodeURIComponent(id)}`));
  }

  async runs(limit = 50): Promise<RunRecord[]> {
    return RunRecordList.parse(await this.json("GET", `/runs?limit=${limit}`)).runs;
  }

  async cancel(id: string, reason?: string): Promise<RunRecord> {
    return RunRecord.parse(
      await this.json("POST", `/runs/${encodeURIComponent(id)}/cancel`, reason ? { reason } : {}),
    );
  }

  async fork(id: string, body: { entry_id?: string; prompt?: string }): Promise<RunRecord> {
    return RunRecord.parse(await this.json("POST", `/runs/${encodeURIComponent(id)}/fork`, body));
  }

  /** Streams a run's events (NDJSON) to `onEvent` until the run ends. */
  follow(id: string, onEvent: (event: AgentEvent) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socketPath,
          path: `/runs/${encodeURIComponent(id)}/events?follow=1`,
          method: "GET",
        },
        (res) => {
          if ((res.statusCode ?? 500) >= 400) {
            collect(res).then((text) => reject(errorOf(res.statusCode ?? 500, text)), reject);
            return;
          }
          let buffer = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            buffer += chunk;
            const lines = buffer.split("\n");
            buffer = lines.pop()!;
            for (const line of lines) if (line) onEvent(JSON.parse(line) as AgentEvent);
          });
          res.on("end", () => resolve());
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end();
    });
  }

  private json(method: string, path: string, body?: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          socketPath: this.socketPath,
          path,
          method,
          headers: payload
            ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }
            : {},
        },
        (res) => {
          collect(res).then((text) => {
            const status = res.statusCode ?? 500;
            if (status >= 400) return reject(errorOf(status, text));
            try {
              resolve(JSON.parse(text));
            } catch {
              reject(new Failure(status, "invalid_response", `${method} ${path}: not JSON`));
            }
          }, reject);
        },
      );
      req.on("error", reject);
      if (payload) req.write(payload);
      req.end();
    });
  }
}

function collect(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      text += chunk;
    });
    stream.on("end", () => resolve(text));
    stream.on("error", reject);
  });
}

function errorOf(status: number, text: string): Failure {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return new Failure(status, "http_error", `HTTP ${status}`);
  }
  const parsed = check(ApiError, json);
  if (!parsed.ok) return new Failure(status, "http_error", `HTTP ${status}`);
  return Failure.fromBody(status, parsed.value);
}
