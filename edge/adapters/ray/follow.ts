import { redactedTail } from "../../../contract";
import { errorText } from "../call";
import type { RayDeclaration } from "./declaration";
import { isTransient, type RayJobInfo, type RayJobsClient, TERMINAL } from "./jobs-client";

const PROGRESS_LOG_CHARS = 4_000;
/**
 * The Jobs API only hands out a job's logs whole (its tail is a websocket), so they are read
 * at most this often while the job runs, and once more when it ends...
 */
const LOGS_INTERVAL_MS = 5_000;
/** ...and this many bytes of logs stretch that interval by one more LOGS_INTERVAL_MS. */
const LOGS_STRETCH_CHARS = 1024 * 1024;
/** The longest wait between two tries of a status request that failed transiently. */
const MAX_BACKOFF_MS = 30_000;

/** The logs last read, and why they may not be the job's latest (null when they are). */
export interface JobLogs {
  text: string;
  cut: string | null;
}

/**
 * Follows a job until Ray reports it ended: its status every poll, its logs less often, each a
 * progress note. A status request that fails transiently (Ray answering 5xx, a request timeout,
 * a refused connection: a dashboard restarting) is retried with backoff until `signal` aborts
 * (the call's deadline); any other failure ends the follow. Logs that cannot be read never do:
 * the last ones read stand, and `cut` says why.
 */
export async function followJob(
  client: RayJobsClient,
  id: string,
  d: RayDeclaration,
  signal: AbortSignal,
  progress: ((text: string) => void) | undefined,
): Promise<{ info: RayJobInfo; logs: JobLogs }> {
  let logs: JobLogs = { text: "", cut: null };
  let logsReadAt = Number.NEGATIVE_INFINITY;
  let lastNote = "";
  const note = (text: string) => {
    if (text === lastNote) return;
    lastNote = text;
    progress?.(text);
  };
  for (let failures = 0; ; ) {
    let info: RayJobInfo;
    try {
      info = await client.info(id, signal);
      failures = 0;
    } catch (error) {
      if (signal.aborted || !isTransient(error)) throw error;
      failures++;
      const wait = Math.min(d.poll_interval_ms * 2 ** failures, MAX_BACKOFF_MS);
      note(`${errorText(error)}; asking again in ${wait} ms`);
      await sleep(wait, signal);
      continue;
    }
    const ended = TERMINAL.has(info.status);
    const logsInterval = Math.max(
      d.poll_interval_ms,
      LOGS_INTERVAL_MS * Math.max(1, logs.text.length / LOGS_STRETCH_CHARS),
    );
    if (ended || Date.now() - logsReadAt >= logsInterval) {
      logsReadAt = Date.now();
      logs = await readLogs(client, id, signal, logs);
    }
    note(`${info.status}${logs.text ? `\n${redactedTail(logs.text, PROGRESS_LOG_CHARS)}` : ""}`);
    if (ended) return { info, logs };
    await sleep(d.poll_interval_ms, signal);
  }
}

async function readLogs(
  client: RayJobsClient,
  id: string,
  signal: AbortSignal,
  before: JobLogs,
): Promise<JobLogs> {
  try {
    return { text: await client.logs(id, signal), cut: null };
  } catch (error) {
    return {
      text: before.text,
      cut: `the logs were cut: reading them failed (${errorText(error)}); these are the last read`,
    };
  }
}

/** Waits `ms`, or less when `signal` aborts; leaves no listener on `signal` behind. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    if (signal?.aborted) done();
  });
}
