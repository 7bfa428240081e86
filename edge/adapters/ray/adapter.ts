import { type JsonValue, parse, redactedExcerpt, redactedTail } from "../../../contract";
import type { AdapterCallIdentity, AdapterFactory, AdapterTool } from "../adapter";
import { CallDeadline, errorText, resultOf } from "../call";
import { resolveReferenceMap, resolveUrl } from "../references";
import {
  type RayDeclaration,
  RayDeclaration as RayDeclarationSchema,
  type RayJobTool,
} from "./declaration";
import { followJob, sleep } from "./follow";
import {
  isTransient,
  type RayJobInfo,
  RayJobsClient,
  RayRequestError,
  TERMINAL,
} from "./jobs-client";

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
        // Ray may have taken the job though its answer never came: find it and stop it.
        if (!(error instanceof RayRequestError && error.unanswered)) throw error;
        const reason = deadline.aborted ? deadline.error().message : errorText(error);
        throw new Error(`${reason}; ${await settleSubmission(client, submissionId, d)}`);
      }
      let followed: Awaited<ReturnType<typeof followJob>>;
      try {
        followed = await deadline.guard(() =>
          followJob(client, submissionId, d, deadline.signal, progress),
        );
      } catch (error) {
        // The call ends before the job did: whatever the reason, the job must not run on.
        throw new Error(`${errorText(error)}; ${await stopJob(client, submissionId, d)}`);
      }
      const { info, logs } = followed;
      const outcome = {
        submission_id: submissionId,
        status: info.status,
        message: info.message ?? null,
        logs: redactedTail(logs.text, LOG_TAIL_CHARS),
        logs_cut: logs.cut,
      };
      if (info.status !== "SUCCEEDED")
        throw new Error(
          `Ray job ${submissionId} ${info.status}${info.message ? `: ${redactedExcerpt(info.message, 2_000)}` : ""}${logs.text ? `\nlogs:\n${redactedTail(logs.text, 2_000)}` : ""}${logs.cut ? `\n(${logs.cut})` : ""}`,
        );
      return resultOf({ ...outcome, result: lastJsonLine(logs.text) });
    },
    // The submission id is the call's identity, so the job a crashed agent left is found again.
    async interrupted(_args, call) {
      const submissionId = submissionIdOf(call);
      let info: RayJobInfo;
      try {
        info = await client.info(submissionId);
      } catch (error) {
        if (error instanceof RayRequestError && error.status === 404)
          return `Ray has no job ${submissionId}: it was never submitted.`;
        throw error;
      }
      if (TERMINAL.has(info.status))
        return `The Ray job ${submissionId} had already ended (${info.status}).`;
      return `The Ray job ${submissionId} it started was still ${info.status}; ${await stopJob(client, submissionId, d)}.`;
    },
  };
}

/**
 * Stops the job and waits (bounded by stop_grace_ms) until Ray reports it ended; a dashboard
 * that fails transiently meanwhile is asked again. Says what happened.
 */
async function stopJob(client: RayJobsClient, id: string, d: RayDeclaration): Promise<string> {
  const until = Date.now() + d.stop_grace_ms;
  let asked = false;
  for (;;) {
    try {
      if (!asked) {
        await client.stop(id);
        asked = true;
      }
      const info = await client.info(id);
      if (TERMINAL.has(info.status)) return `the job was stopped (${info.status})`;
      if (Date.now() > until) return `the job was asked to stop but still reports ${info.status}`;
    } catch (error) {
      if (!isTransient(error) || Date.now() > until)
        return `stopping the job failed: ${errorText(error)}`;
    }
    await sleep(Math.min(d.poll_interval_ms, 500));
  }
}

/** After a submission whose answer never came: did Ray take the job? Stops it if so. */
async function settleSubmission(
  client: RayJobsClient,
  id: string,
  d: RayDeclaration,
): Promise<string> {
  try {
    await client.info(id);
  } catch (error) {
    if (error instanceof RayRequestError && error.status === 404)
      return "Ray has no job by its submission id: it was not taken";
    return `whether Ray took the job is unknown: ${errorText(error)}`;
  }
  return `Ray had taken the job; ${await stopJob(client, id, d)}`;
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
