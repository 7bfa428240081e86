import { type JsonValue, parse, redactedExcerpt, redactedTail } from "../../../contract";
import type { AdapterCallIdentity, AdapterFactory, AdapterTool } from "../adapter";
import { CallDeadline, errorText, resultOf } from "../call";
import { resolveReferenceMap, resolveUrl } from "../references";
import {
  type RayDeclaration,
  RayDeclaration as RayDeclarationSchema,
  type RayJobTool,
} from "./declaration";
import { type RayJobInfo, RayJobsClient, TERMINAL } from "./jobs-client";

const LOG_TAIL_CHARS = 4_000;
const METADATA_VALUE_CHARS = 4_000;

/** Ray jobs as tools: submit, follow status and logs, stop on cancel or timeout. */
export const rayAdapter: AdapterFactory = (declaration, { file, env }) => {
  const d = parse(RayDeclarationSchema, declaration, file);
  const client = new RayJobsClient(
    resolveUrl(d.address, env, file, "address"),
    resolveReferenceMap(d.headers, env, file, "headers"),
    d.request_timeout_ms,
  );
  return {
    kind: "ray",
    name: d.name,
    tools: d.tools.map((t) => jobTool(t, client, d)),
  };
};

function jobTool(t: RayJobTool, client: RayJobsClient, d: RayDeclaration): AdapterTool {
  return {
    name: t.tool,
    description: t.description,
    input_schema: t.input_schema,
    async execute(args, { signal, progress, call }) {
      const submissionId = submissionIdOf(call);
      const deadline = new CallDeadline(
        `Ray job ${submissionId}`,
        t.timeout_ms ?? d.timeout_ms,
        signal,
      );
      try {
        await client.submit(
          {
            entrypoint: t.entrypoint,
            submission_id: submissionId,
            metadata: metadataOf(call, t.tool),
            runtime_env: runtimeEnvOf(t, args),
            ...definedOnly({
              entrypoint_num_cpus: t.entrypoint_num_cpus,
              entrypoint_num_gpus: t.entrypoint_num_gpus,
              entrypoint_memory: t.entrypoint_memory,
              entrypoint_resources: t.entrypoint_resources,
            }),
          },
          deadline.signal,
        );
      } catch (error) {
        // Stopped while submitting: Ray may have taken the job before the answer was cut off.
        if (deadline.aborted)
          throw new Error(`${deadline.error().message}; ${await stopJob(client, submissionId, d)}`);
        throw error;
      }
      let info: RayJobInfo;
      let logs = "";
      try {
        info = await deadline.guard(async () => {
          let lastProgress = "";
          for (;;) {
            const current = await client.info(submissionId, deadline.signal);
            logs = await client.logs(submissionId, deadline.signal);
            const note = `${current.status}${logs ? `\n${redactedTail(logs, LOG_TAIL_CHARS)}` : ""}`;
            if (note !== lastProgress) {
              progress?.(note);
              lastProgress = note;
            }
            if (TERMINAL.has(current.status)) return current;
            await sleep(d.poll_interval_ms, deadline.signal);
          }
        });
      } catch (error) {
        if (!deadline.aborted) throw error;
        throw new Error(`${errorText(error)}; ${await stopJob(client, submissionId, d)}`);
      }
      const outcome = {
        submission_id: submissionId,
        status: info.status,
        message: info.message ?? null,
        logs: redactedTail(logs, LOG_TAIL_CHARS),
      };
      if (info.status !== "SUCCEEDED")
        throw new Error(
          `Ray job ${submissionId} ${info.status}${info.message ? `: ${redactedExcerpt(info.message, 2_000)}` : ""}${logs ? `\nlogs:\n${redactedTail(logs, 2_000)}` : ""}`,
        );
      return resultOf({ ...outcome, result: lastJsonLine(logs) });
    },
    // The submission id is the call's identity, so the job a crashed agent left is found again.
    async interrupted(_args, call) {
      const submissionId = submissionIdOf(call);
      let info: RayJobInfo;
      try {
        info = await client.info(submissionId);
      } catch (error) {
        if (/answered HTTP 404/.test(errorText(error)))
          return `Ray has no job ${submissionId}: it was never submitted.`;
        throw error;
      }
      if (TERMINAL.has(info.status))
        return `The Ray job ${submissionId} had already ended (${info.status}).`;
      return `The Ray job ${submissionId} it started was still ${info.status}; ${await stopJob(client, submissionId, d)}.`;
    },
  };
}

/** Stops the job and waits (bounded) until Ray reports it ended; says what happened. */
async function stopJob(client: RayJobsClient, id: string, d: RayDeclaration): Promise<string> {
  try {
    await client.stop(id);
    const until = Date.now() + d.stop_grace_ms;
    for (;;) {
      const info = await client.info(id);
      if (TERMINAL.has(info.status)) return `the job was stopped (${info.status})`;
      if (Date.now() > until) return `the job was asked to stop but still reports ${info.status}`;
      await sleep(Math.min(d.poll_interval_ms, 500));
    }
  } catch (error) {
    return `stopping the job failed: ${errorText(error)}`;
  }
}

/**
 * One job per tool call of a run's attempt, so a retried submission is refused by Ray instead
 * of running twice, and the job is found from the run's events (and the other way round).
 */
function submissionIdOf(call: AdapterCallIdentity | undefined): string {
  if (!call) return `auraison-${crypto.randomUUID()}`;
  const tool = call.tool_call_id.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64);
  return `auraison-${call.run_id}-${call.attempt}-${tool}`;
}

/** What the job records about who asked for it (Ray metadata values are strings). */
function metadataOf(call: AdapterCallIdentity | undefined, tool: string): Record<string, string> {
  if (!call) return { "auraison.tool": tool };
  return {
    "auraison.tool": tool,
    "auraison.tenant": call.tenant,
    "auraison.app": call.app,
    "auraison.agent_id": call.agent_id,
    "auraison.run_id": call.run_id,
    "auraison.attempt": String(call.attempt),
    "auraison.tool_call_id": call.tool_call_id,
    "auraison.intent_id": call.intent.intent_id,
    "auraison.intent_type": call.intent.type,
    "auraison.intent_params": redactedExcerpt(
      JSON.stringify(call.intent.params),
      METADATA_VALUE_CHARS,
    ),
  };
}

/** The arguments as the job's environment (see the declaration's `entrypoint`). */
function runtimeEnvOf(t: RayJobTool, args: Record<string, unknown>): Record<string, JsonValue> {
  const base = (t.runtime_env ?? {}) as Record<string, JsonValue>;
  const envVars: Record<string, JsonValue> = {
    ...((base.env_vars ?? {}) as Record<string, JsonValue>),
  };
  for (const [name, value] of Object.entries(args))
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && value !== undefined && value !== null)
      envVars[`AURAISON_ARG_${name}`] =
        typeof value === "object" ? JSON.stringify(value) : String(value);
  envVars.AURAISON_TOOL_ARGS = JSON.stringify(args);
  return { ...base, env_vars: envVars };
}

/** A job that ends by printing a JSON line hands that back as its result. */
function lastJsonLine(logs: string): JsonValue {
  const lines = logs.trimEnd().split("\n");
  for (let i = lines.length - 1; i >= 0 && i >= lines.length - 5; i--) {
    const line = lines[i]!.trim();
    if (!/^[[{]/.test(line)) continue;
    try {
      return JSON.parse(line) as JsonValue;
    } catch {}
  }
  return null;
}

function definedOnly<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(fields).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
