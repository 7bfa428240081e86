import { cpSync, mkdirSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ExtensionFactory } from "@earendil-works/pi-coding-agent";
import { type AgentEvent, type Skill, uuidv7 } from "../contract";
import type { AdapterFactory, ExecutionAdapter } from "./adapters/adapter";
import { ADAPTER_KINDS } from "./adapters/kinds";
import { loadAdapters, startAdapters } from "./adapters/load";
import { type AppFolder, loadAppFolder } from "./config/app-folder";
import { Emitter } from "./events/emitter";
import { EventSink } from "./events/event-sink";
import type { ModelSettings } from "./models/model-settings";
import { Outbox, type OutboxOptions } from "./outbox/outbox";
import { type LocalRunRequest, localIntent } from "./runs/local-intent";
import type { RunExecution } from "./runs/run-executor";
import { CapacityError, RunManager } from "./runs/run-manager";
import { RunRecords } from "./runs/run-records";
import {
  prepareShellSandbox,
  type ShellSandbox,
  type ShellSandboxMode,
} from "./session/shell-sandbox";
import { loadAppSkills } from "./skills/app-skills";
import { privateDir } from "./state-files";
import { StateLock } from "./state-lock";
import { EdgeTracing } from "./telemetry/tracing";
import { refuseWorkdirHolding, WithheldPaths } from "./withheld-paths";

/**
 * The tenant an agent with no central stamps on its events (`edge run` on its own). Delivery
 * gives them the tenant of the central it first delivers them to.
 */
export const STANDALONE_TENANT = "local";

export interface EdgeRuntimeOptions {
  app: string;
  agentId: string;
  /** The tenant events are attributed to (from the agent key; `local` without one). */
  tenant: string;
  stateDir: string;
  /** Default: `<state>/work`. */
  workdir?: string;
  /** Where the model's shell runs. Default: `auto` (session/shell-sandbox.ts). */
  shellSandbox?: ShellSandboxMode;
  /**
   * Paths the model's tools must not reach beyond the state directory (always withheld): the
   * CLI adds its home and the key files it read (withheld-paths.ts).
   */
  withheld?: readonly string[];
  appDir?: string;
  skillsDir?: string;
  models: ModelSettings;
  /** Extension modules (`--extension`), loaded into every run's session. */
  extensionPaths?: string[];
  /** In-process extensions, for embedding the edge (and its tests). */
  extensionFactories?: ExtensionFactory[];
  adapterKinds?: Readonly<Record<string, AdapterFactory>>;
  outbox?: OutboxOptions;
  env?: NodeJS.ProcessEnv;
}

/**
 * An edge agent's local machinery, with or without central: the app (skills, adapters,
 * policy), the durable outbox and event log, the run records and the runs. `edge start` adds
 * the central link and the local RPC around it; `edge run` without a running agent uses it
 * directly.
 */
export class EdgeRuntime {
  /** Whether central can be reached right now; the link updates it. */
  centralReachable: () => boolean = () => false;

  private constructor(
    readonly options: EdgeRuntimeOptions & { workdir: string },
    readonly app: AppFolder,
    readonly skills: Skill[],
    readonly adapters: ExecutionAdapter[],
    readonly outbox: Outbox,
    readonly eventSink: EventSink,
    readonly runs: RunManager,
    /** Emits agent-level events (run_id null). */
    readonly agentEvents: Emitter,
    private readonly lock: StateLock,
    /** OpenTelemetry traces, when an OTLP endpoint is configured (README, Traces). */
    readonly tracing: EdgeTracing | null,
    /** Where the model's shell runs, as checked when the runtime opened. */
    readonly shellSandbox: ShellSandbox,
    private readonly withheld: WithheldPaths,
  ) {}

  static async open(options: EdgeRuntimeOptions): Promise<EdgeRuntime> {
    const stateDir = resolve(options.stateDir);
    const workdir = resolve(options.workdir ?? join(stateDir, "work"));
    const withheldNames = [stateDir, ...(options.withheld ?? [])];
    refuseWorkdirHolding(workdir, withheldNames);
    privateDir(stateDir);
    mkdirSync(workdir, { recursive: true });
    const app = loadAppFolder({
      app: options.app,
      ...(options.appDir ? { appDir: options.appDir } : {}),
      ...(options.skillsDir ? { skillsDir: options.skillsDir } : {}),
    });
    if (app.workdirSeed && readdirSync(workdir).length === 0)
      cpSync(app.workdirSeed, workdir, { recursive: true });
    // Held open from here (WithheldPaths), so the shell cannot move one out of sight.
    const withheld = WithheldPaths.open(withheldNames);
    try {
      const shellSandbox = prepareShellSandbox(
        options.shellSandbox ?? "auto",
        { workdir, withheld },
        options.env ?? process.env,
      );
      return await EdgeRuntime.assemble(options, {
        stateDir,
        workdir,
        app,
        shellSandbox,
        withheld,
      });
    } catch (error) {
      withheld.close();
      throw error;
    }
  }

  /** The rest of `open`, once the shell's sandbox holds what it withholds. */
  private static async assemble(
    options: EdgeRuntimeOptions,
    parts: {
      stateDir: string;
      workdir: string;
      app: AppFolder;
      shellSandbox: ShellSandbox;
      withheld: WithheldPaths;
    },
  ): Promise<EdgeRuntime> {
    const { stateDir, workdir, app, shellSandbox, withheld } = parts;
    const skills = app.skillsDir ? loadAppSkills(app.skillsDir, options.app) : [];
    const adapters = app.adaptersDir
      ? loadAdapters(
          app.adaptersDir,
          options.adapterKinds ?? ADAPTER_KINDS,
          options.env,
          app.config.secrets,
        )
      : [];
    const lock = StateLock.acquire(stateDir);
    let outbox: Outbox;
    try {
      await startAdapters(adapters);
    } catch (error) {
      lock.release();
      throw error;
    }
    try {
      outbox = await Outbox.open(join(stateDir, "outbox"), options.outbox);
    } catch (error) {
      await Promise.allSettled(adapters.map((a) => a.close?.()));
      lock.release();
      throw error;
    }
    const eventSink = new EventSink(outbox);
    const store = new RunRecords(stateDir);
    const last = await outbox.lastAgentEvent();
    const agentEvents = new Emitter(
      eventSink,
      { tenant: options.tenant, agent_id: options.agentId, run_id: null, attempt: null },
      last && last.agent_id === options.agentId ? last.seq + 1 : 0,
    );
    let runtime: EdgeRuntime | undefined;
    const tracing = EdgeTracing.fromEnv(options.env ?? process.env, {
      agentId: options.agentId,
      app: options.app,
      tenant: options.tenant,
    });
    const runs = new RunManager({
      stateDir,
      workdir,
      shellSandbox,
      withheld,
      agentId: options.agentId,
      app,
      adapters,
      eventSink,
      store,
      outbox,
      models: options.models,
      centralReachable: () => runtime?.centralReachable() ?? false,
      extensionPaths: (options.extensionPaths ?? []).map((p) => resolve(p)),
      extensionFactories: options.extensionFactories ?? [],
      maxConcurrency: app.config.max_concurrency,
      tracing,
    });
    runtime = new EdgeRuntime(
      { ...options, stateDir, workdir },
      app,
      skills,
      adapters,
      outbox,
      eventSink,
      runs,
      agentEvents,
      lock,
      tracing,
      shellSandbox,
      withheld,
    );
    return runtime;
  }

  get stateDir(): string {
    return this.options.stateDir;
  }

  /** Starts a run on this agent alone (no central involved in choosing or dispatching it). */
  async startLocal(request: LocalRunRequest): Promise<RunExecution> {
    if (!this.runs.hasCapacity) throw new CapacityError(this.app.config.max_concurrency);
    const intent = localIntent(request, {
      tenant: this.options.tenant,
      agentId: this.options.agentId,
    });
    const runId = uuidv7();
    await this.runs.admit(intent, runId, 1, "local");
    return this.runs.begin(runId);
  }

  /** The events of one run so far, in seq order. */
  async eventsOf(runId: string): Promise<AgentEvent[]> {
    return (await this.outbox.eventsOfRuns(new Set([runId]))).get(runId) ?? [];
  }

  /** Checkpoints whatever still runs (it resumes on the next open), then lets go of the state. */
  async close(): Promise<void> {
    await this.runs.checkpointAll("the agent closed");
    await this.outbox.close();
    for (const adapter of this.adapters) await adapter.close?.();
    await this.tracing?.shutdown().catch(() => undefined);
    this.withheld.close();
    this.lock.release();
  }
}
