import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Where `npm run s3:server` installs moto's S3 server (PyPI), inside the checkout. */
export const MOTO_DIR = fileURLToPath(new URL("../../.moto", import.meta.url));
export const MOTO_INSTALL = "npm run s3:server";

export interface TestS3 {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** The variables a lake on `s3://<bucket>/...` needs (see lakehouse/lake/object-store.ts). */
  env: Record<string, string>;
  /** Creates a bucket; returns its `s3://<name>/` URL. */
  bucket(name: string): Promise<string>;
  /** Keys of the objects under a prefix of a bucket (ListObjectsV2, every page). */
  list(bucket: string, prefix?: string): Promise<string[]>;
  /** The requests the server answered so far, as `METHOD /path?query STATUS`. */
  requests(): string[];
  stop(): Promise<void>;
}

/**
 * Starts a real S3-compatible server, moto's (`moto.server`, the S3 service from PyPI), on a
 * port of 127.0.0.1 the OS picks. moto implements S3's REST API (multipart uploads, ListObjectsV2,
 * DeleteObjects) in memory; it accepts any credentials and does not check signatures, so the
 * test proves the lake's S3 traffic, not authentication.
 */
export async function startS3(): Promise<TestS3> {
  if (!existsSync(`${MOTO_DIR}/moto/__init__.py`))
    throw new Error(`moto's S3 server is not installed in ${MOTO_DIR}: run ${MOTO_INSTALL}`);
  const child = spawn("python3", ["-m", "moto.server", "-H", "127.0.0.1", "-p", "0"], {
    env: { ...process.env, PYTHONPATH: MOTO_DIR, PYTHONDONTWRITEBYTECODE: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log: string[] = [];
  const endpoint = await listening(child, log);
  const env = {
    S3_ACCESS_KEY_ID: "auraison-test",
    S3_SECRET_ACCESS_KEY: "auraison-test-secret",
    S3_REGION: "us-east-1",
    S3_ENDPOINT: endpoint,
    S3_URL_STYLE: "path",
  };
  return {
    endpoint,
    env,
    async bucket(name) {
      const response = await fetch(`${endpoint}/${name}`, { method: "PUT" });
      await response.text();
      if (!response.ok) throw new Error(`creating bucket ${name}: HTTP ${response.status}`);
      return `s3://${name}/`;
    },
    async list(bucket, prefix = "") {
      const keys: string[] = [];
      let token: string | null = null;
      do {
        const query = new URLSearchParams({ "list-type": "2", prefix });
        if (token) query.set("continuation-token", token);
        const response = await fetch(`${endpoint}/${bucket}?${query}`);
        const xml = await response.text();
        if (!response.ok) throw new Error(`listing ${bucket}: HTTP ${response.status}`);
        for (const match of xml.matchAll(/<Key>([^<]*)<\/Key>/g)) keys.push(match[1]!);
        token = /<NextContinuationToken>([^<]*)</.exec(xml)?.[1] ?? null;
      } while (token);
      return keys;
    },
    requests: () => [...log],
    stop: () => stop(child),
  };
}

/** Resolves with the server's URL; from then on, appends each request it logs to `log`. */
function listening(child: ChildProcess, log: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    let pending = "";
    // werkzeug logs each request: 127.0.0.1 - - [date] "PUT /bucket/key?partNumber=1 HTTP/1.1" 200 -
    const record = (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        const match = /"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d+)/.exec(line);
        if (match) log.push(`${match[1]} ${match[2]} ${match[3]}`);
      }
    };
    const timer = setTimeout(() => fail(new Error("moto did not start in 60 s")), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.off("data", onData);
      child.stderr!.off("data", onData);
      // Keep reading its request log, so a full pipe never blocks the server.
      child.stdout!.on("data", record);
      child.stderr!.on("data", record);
      resolve(match[1]!);
    };
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`${error.message}\n${output}`));
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("error", fail);
    child.once("exit", (code) => fail(new Error(`moto exited (${code}) before listening`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}
