import { z } from "zod";
import { JsonObject } from "../../../contract";
import {
  AdapterName,
  DeclaredTool,
  HttpUrl,
  InputSchema,
  TimeoutMs,
  uniqueTools,
} from "../declaration";

const RayJobTool = z.strictObject({
  ...DeclaredTool,
  /**
   * The job's shell command. The arguments reach the job in its environment, never spliced into
   * the command: all of them as JSON in AURAISON_TOOL_ARGS, and each top-level one as
   * AURAISON_ARG_<name> (`python train.py --epochs "$AURAISON_ARG_epochs"`).
   */
  entrypoint: z.string().min(1).max(16_384),
  input_schema: InputSchema.default({ type: "object" }),
  /** Ray's runtime_env for the job (working_dir, pip, env_vars, ...). */
  runtime_env: JsonObject.optional(),
  entrypoint_num_cpus: z.number().nonnegative().optional(),
  entrypoint_num_gpus: z.number().nonnegative().optional(),
  entrypoint_memory: z.number().int().nonnegative().optional(),
  entrypoint_resources: z.record(z.string(), z.number().nonnegative()).optional(),
  /** How long the job may run before it is stopped and the call fails. */
  timeout_ms: TimeoutMs.optional(),
});
export type RayJobTool = z.infer<typeof RayJobTool>;

/**
 * `<app>/adapters/<name>.json` with `"kind": "ray"`: Ray jobs as tools, through the Ray Jobs
 * REST API of the cluster's dashboard. A call submits a job, follows its status and logs until
 * it ends, and stops it when the run stops or the call times out.
 */
export const RayDeclaration = z
  .strictObject({
    kind: z.literal("ray"),
    name: AdapterName,
    /** The dashboard, e.g. http://127.0.0.1:8265. */
    address: HttpUrl,
    /** Sent with every request (a proxy's bearer token); values may be ${NAME} references. */
    headers: z.record(z.string(), z.string()).default({}),
    /** One REST request. */
    request_timeout_ms: TimeoutMs.default(10_000),
    /** A job, for tools without their own timeout_ms. */
    timeout_ms: TimeoutMs.default(3_600_000),
    poll_interval_ms: z.number().int().min(50).max(60_000).default(1_000),
    /** After a stop: how long to wait for the job to report STOPPED. */
    stop_grace_ms: TimeoutMs.default(15_000),
    tools: z.array(RayJobTool).min(1).max(256),
  })
  .superRefine((d, ctx) => uniqueTools(d.tools, ctx));
export type RayDeclaration = z.infer<typeof RayDeclaration>;
