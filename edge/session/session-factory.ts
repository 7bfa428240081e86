import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { InMemoryCredentialStore } from "@earendil-works/pi-ai";
import {
  type AgentSession,
  type BashSpawnContext,
  createAgentSession,
  createBashToolDefinition,
  DefaultResourceLoader,
  type ExtensionFactory,
  type InlineExtension,
  ModelRuntime,
  type SessionManager,
  SettingsManager,
} from "@earendil-works/pi-coding-agent";
import { minimalEnv } from "../child-env";
import type { ModelRef, ModelSettings } from "../models/model-settings";
import { type Attribution, registerPlatformProviders } from "../models/providers";
import { privateDir } from "../state-files";
import { type ShellSandbox, sandboxed } from "./shell-sandbox";

/** pi's built-in tools; all are active, each scoped to the run's working directory by pi. */
const BUILTIN_TOOLS = ["read", "bash", "edit", "write", "grep", "find", "ls"];

/** What pi itself tells a shell command about its session (pi's "Shell tool session environment"). */
const PI_SESSION_ENV = [
  "PI_SESSION_ID",
  "PI_SESSION_FILE",
  "PI_PROVIDER",
  "PI_MODEL",
  "PI_REASONING_LEVEL",
];

/**
 * The model's shell environment. pi's bash hands a command the agent's whole environment
 * (process.env); here it gets what a stdio MCP server gets (`minimalEnv`: PATH with pi's bin
 * directory, HOME, locale, ...) and pi's session variables, never the agent's key, the fallback
 * key, provider keys or the host's adapter secrets.
 */
function shellEnvironment(context: BashSpawnContext): BashSpawnContext {
  const env = minimalEnv(context.env);
  for (const name of PI_SESSION_ENV) {
    const value = context.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...context, env };
}

/**
 * pi's bash, rooted at the workdir, with that environment, in the agent's shell sandbox
 * (shell-sandbox.ts). A `builtin:` extension's tool replaces pi's own bash and is still a
 * built-in (its source is `builtin`): the prompt, the policy hook and the events treat it as
 * pi's bash. An --extension that registers its own `bash` replaces this one, sandbox included.
 */
const BASH_EXTENSION = "auraison-bash";
function bashExtension(workdir: string, sandbox: ShellSandbox): InlineExtension {
  const spawnHook = (context: BashSpawnContext) => sandboxed(sandbox, shellEnvironment(context));
  return {
    name: BASH_EXTENSION,
    builtin: true,
    replaceable: true,
    factory: (pi) => {
      pi.registerTool(createBashToolDefinition(workdir, { spawnHook }));
    },
  };
}

export interface SessionSpec {
  stateDir: string;
  workdir: string;
  /** Where the model's shell runs (EdgeRuntime: prepareShellSandbox). */
  shellSandbox: ShellSandbox;
  sessionManager: SessionManager;
  /** Platform extensions (bridge, guards, adapter tools), after the user's. */
  platformExtensions: ExtensionFactory[];
  /** Extension modules given with --extension, loaded as pi loads `-e` modules. */
  extensionPaths: readonly string[];
  /** In-process extension factories (embedding, tests), loaded like the modules. */
  extensionFactories: readonly ExtensionFactory[];
  skillsDir: string | null;
  systemPromptAppend: string[];
  models: ModelSettings;
  model: ModelRef;
  attribution: Attribution;
  onExtensionError: (error: { extensionPath: string; event: string; error: string }) => void;
}

export class SessionSetupError extends Error {
  constructor(
    readonly category: "model" | "internal",
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = "SessionSetupError";
  }
}

/**
 * Builds the pi session a run executes in, through pi's SDK: the app's skills, the user's and
 * the platform's extensions, pi's built-in tools rooted at the workdir, and the chosen model.
 * pi's own global configuration (~/.pi) is not consulted: the agent's pi directory lives in
 * its state dir, so a lab host's personal pi setup never leaks into platform runs.
 */
export async function createRunSession(spec: SessionSpec): Promise<AgentSession> {
  const agentDir = join(spec.stateDir, "pi");
  privateDir(agentDir);
  mkdirSync(spec.workdir, { recursive: true });
  // pi retries a failed model call twice; the HTTP client once more. Beyond that a run either
  // falls back to the local model (gateway unreachable) or fails with the model's error.
  // pi's automatic compaction runs after a prompt ends, which for a platform run is after the
  // run ended; the executor compacts explicitly when the context overflows instead.
  // A run's model calls are the run's own: pi 1.x would otherwise keep prompt caches warm with
  // calls of its own for up to 30 minutes after a prompt (billed, and after the run has ended),
  // and add its install-telemetry attribution headers to provider requests.
  const settingsManager = SettingsManager.inMemory({
    retry: { enabled: true, maxRetries: 2, baseDelayMs: 1_000, provider: { maxRetries: 1 } },
    compaction: { enabled: false },
    cacheWarming: "off",
    enableInstallTelemetry: false,
  });
  const loader = new DefaultResourceLoader({
    cwd: spec.workdir,
    agentDir,
    settingsManager,
    noExtensions: true,
    noSkills: true,
    noPromptTemplates: true,
    noThemes: true,
    additionalExtensionPaths: [...spec.extensionPaths, `builtin:${BASH_EXTENSION}`],
    additionalSkillPaths: spec.skillsDir ? [spec.skillsDir] : [],
    extensionFactories: [
      ...spec.extensionFactories,
      ...spec.platformExtensions,
      bashExtension(spec.workdir, spec.shellSandbox),
    ],
    appendSystemPrompt: spec.systemPromptAppend,
  });
  await loader.reload();
  const loadErrors = loader.getExtensions().errors;
  if (loadErrors.length > 0) {
    throw new SessionSetupError(
      "internal",
      "extension_load_failed",
      `extensions failed to load: ${loadErrors.map((e) => `${e.path}: ${e.error}`).join("; ")}`,
    );
  }

  // Credentials and the model catalogue live in memory: no auth.json or models.json is read or
  // written, and pi fetches no catalogue over the network.
  const modelRuntime = await ModelRuntime.create({
    credentials: new InMemoryCredentialStore(),
    modelsPath: null,
  });
  await registerPlatformProviders(modelRuntime, spec.models, spec.attribution);

  const { session } = await createAgentSession({
    cwd: spec.workdir,
    agentDir,
    modelRuntime,
    resourceLoader: loader,
    sessionManager: spec.sessionManager,
    settingsManager,
  });
  await session.bindExtensions({ onError: spec.onExtensionError });
  const extensionTools = session
    .getAllTools()
    .filter((t) => t.sourceInfo.source !== "builtin")
    .map((t) => t.name);
  session.setActiveToolsByName([...BUILTIN_TOOLS, ...extensionTools]);

  // Providers registered by extensions exist only now, so the model is picked after creation.
  const model = modelRuntime.getModel(spec.model.provider, spec.model.id);
  if (!model) {
    session.dispose();
    throw new SessionSetupError(
      "model",
      "model_not_found",
      `model ${spec.model.provider}/${spec.model.id} is not known to pi (built-in providers, --extension providers, the gateway and the fallback)`,
    );
  }
  try {
    await session.setModel(model);
  } catch (error) {
    session.dispose();
    throw new SessionSetupError(
      "model",
      "model_unavailable",
      `model ${spec.model.provider}/${spec.model.id} cannot be used: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return session;
}
