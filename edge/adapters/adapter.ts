import type { JsonValue, PolicyHook } from "../../contract";

/**
 * An execution adapter turns something next to the hardware (an HTTP service, a ROS graph, a Ray
 * cluster, a model server, a Zenoh network, an MCP server) into tools the agent can call. The
 * core only sees this interface: adding an adapter kind is a folder under `edge/adapters/` and a
 * factory in `kinds.ts`, nothing else.
 */
export interface ExecutionAdapter {
  kind: string;
  /** Unique within the app, from the declaration. */
  name: string;
  /**
   * The adapter's tools. Kinds that discover their tools (an MCP server lists them) fill this
   * in `start`; the loader checks names again once every adapter has started.
   */
  tools: AdapterTool[];
  /**
   * A rule the adapter adds to every run's tool_call policy chain, after the app's and the
   * intent's allow-lists (an MCP server's own allow-list). It should answer null for tools that
   * are not its own.
   */
  policy?: PolicyHook;
  /** Connects, or discovers tools, before the agent takes work; throw to refuse to start. */
  start?(): Promise<void>;
  /** Releases connections and child processes when the agent stops. */
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
  /**
   * Runs one call. Resolve with the result, or throw an Error whose message says why: the call
   * then fails with that reason. When `context.signal` aborts (the run was cancelled, ran out of
   * budget or hit its deadline), stop the remote work first — cancel the goal, stop the job,
   * close the stream — and then throw.
   */
  execute(args: Record<string, unknown>, context: AdapterCallContext): Promise<AdapterResult>;
  /**
   * A call of this tool was cut off by a crash of the agent (SIGKILL, a power cut): nothing
   * stopped the remote work it started. When the run resumes, before the model goes on, this
   * is called with the call's arguments and identity (the attempt it ran under) so the tool
   * can find that work and stop it: stop the Ray job by its submission id, cancel the ROS goal
   * by its id. Resolve with what was done, in words for the event log and the model, or null
   * when the call leaves nothing running; throw when stopping failed.
   */
  interrupted?(args: Record<string, unknown>, call: AdapterCallIdentity): Promise<string | null>;
}

export interface AdapterCallContext {
  /** Aborts when the run stops; the adapter must stop the remote work it started. */
  signal?: AbortSignal;
  /** Streams a progress note to the run's events (tool_call_progress; at most one a second is logged). */
  progress?: (text: string) => void;
  /** Which run and tool call this is, to correlate remote work (job ids, metadata) with it. */
  call?: AdapterCallIdentity;
  /**
   * The tenant secrets central handed this run, by name (the app declares them in app.json
   * `secrets`). `${NAME}` references resolved per call take them before the host's environment
   * (`runValues` in references.ts). Never put them in a result or a progress note.
   */
  secrets?: Readonly<Record<string, string>>;
}

/** Who is calling, as a remote system should record it. */
export interface AdapterCallIdentity {
  run_id: string;
  attempt: number;
  tool_call_id: string;
  agent_id: string;
  app: string;
  tenant: string;
  intent: { intent_id: string; type: string; params: { [key: string]: JsonValue } };
}

export interface AdapterResult {
  output: JsonValue;
  /** What the model reads; defaults to the output as JSON. */
  text?: string;
}

/** What a factory gets besides the declaration. */
export interface AdapterFactoryContext {
  /** The declaration's file, for error messages. */
  file: string;
  /** Where `${NAME}` references in the declaration resolve (see `references.ts`). */
  env: NodeJS.ProcessEnv;
  /** The tenant secrets the app declares: references resolved per call may name them. */
  secrets?: readonly string[];
}

/** Builds an adapter from its declaration file; throws ContractValidationError when it is wrong. */
export type AdapterFactory = (
  declaration: unknown,
  context: AdapterFactoryContext,
) => ExecutionAdapter;
