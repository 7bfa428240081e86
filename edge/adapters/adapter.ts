import type { JsonValue } from "../../contract";

/**
 * An execution adapter turns something next to the hardware (an HTTP service, a ROS graph, a Ray
 * cluster, a vLLM server, a Zenoh queryable) into tools the agent can call. The core only sees
 * this interface: adding an adapter kind is a factory in `kinds.ts`, nothing else.
 */
export interface ExecutionAdapter {
  kind: string;
  /** Unique within the app, from the declaration. */
  name: string;
  tools: AdapterTool[];
  close?(): Promise<void>;
}

export interface AdapterTool {
  /** The tool name the model calls. */
  name: string;
  description: string;
  /** JSON Schema of the arguments; pi validates the model's arguments against it. */
  input_schema: Record<string, unknown>;
  /** JSON Schema the output must match, when the declaration states one. */
  output_schema?: Record<string, unknown>;
  execute(args: Record<string, unknown>, context: AdapterCallContext): Promise<AdapterResult>;
}

export interface AdapterCallContext {
  signal?: AbortSignal;
  /** Streams a progress note to the run's events (tool_call_progress). */
  progress?: (text: string) => void;
}

export interface AdapterResult {
  output: JsonValue;
  /** What the model reads; defaults to the output as JSON. */
  text?: string;
}

/** Builds an adapter from its declaration file; throws ContractValidationError when it is wrong. */
export type AdapterFactory = (
  declaration: unknown,
  context: { file: string; env: NodeJS.ProcessEnv },
) => ExecutionAdapter;
