import type { AgentMessage } from "@earendil-works/pi-agent-core";
import { type AssistantMessage, isContextOverflow } from "@earendil-works/pi-ai";
import type {
  AgentSession,
  ExtensionFactory,
  SessionManager,
} from "@earendil-works/pi-coding-agent";
import {
  type AgentEvent,
  intentPrompt,
  isTerminal,
  nowTs,
  type RunError,
  redactedExcerpt,
  runMachine,
  type TreeRef,
} from "../../contract";
import type { ExecutionAdapter } from "../adapters/adapter";
import { errorText } from "../adapters/call";
import type { AppFolder } from "../config/app-folder";
import { Emitter } from "../events/emitter";
import type { EventSink } from "../events/event-sink";
import { messageText } from "../events/message-text";
import { adapterTools, callIdentity } from "../extensions/adapter-tools";
import { BudgetGuard } from "../extensions/budget-guard";
import { classifyError, EventBridge } from "../extensions/event-bridge";
import { loopGuard } from "../extensions/loop-guard";
import { policyGuard } from "../extensions/policy-guard";
import {
  formatModelRef,
  GATEWAY_PROVIDER,
  type ModelRef,
  type ModelSettings,
} from "../models/model-settings";
import { chooseModel, fallbackRef } from "../models/providers";
import { policyChain } from "../policy/chain";
import {
  type Continuation,
  continuationOf,
  interruptedText,
  pendingCalls,
  repairTranscript,
} from "../session/continuation";
import { createRunSession, SessionSetupError } from "../session/session-factory";
import {
  ForkError,
  forkRunSession,
  newRunSession,
  reopenRunSession,
  treeRefFile,
} from "../session/session-files";
import type { ShellSandbox } from "../session/shell-sandbox";
import type { EdgeTracing } from "../telemetry/tracing";
import { type TimerAt, timerAt } from "../timer-at";
import type { WithheldPaths } from "../withheld-paths";
import type { RunContext } from "./run-context";
import { RunControl } from "./run-control";
import type { RunRecord } from "./run-record";
import type { RunRecords } from "./run-records";
import { RunView } from "./run-view";

export interface ExecutorDeps {
  stateDir: string;
  workdir: string;
  shellSandbox: ShellSandbox;
  /** What the model's tools must not reach (withheld-paths.ts). */
  withheld: WithheldPaths;
  agentId: string;
  app: AppFolder;
  adapters: readonly ExecutionAdapter[];
  eventSink: EventSink;
  store: RunRecords;
  models: ModelSettings;
  centralReachable: () => boolean;
  extensionPaths: readonly string[];
  extensionFactories: readonly ExtensionFactory[];
  /** OpenTelemetry traces of the runs, when an OTLP endpoint is configured. */
  tracing?: EdgeTracing | null;
}

/**
 * A run attempt's emitter, numbering on from the attempt's events already logged (`logged` may
 * hold earlier attempts' too: seq counts within an attempt).
 */
export function runEmitter(
  deps: Pick<ExecutorDeps, "eventSink" | "agentId">,
  record: RunRecord,
  logged: readonly AgentEvent[],
  observe: (event: AgentEvent) => void,
): Emitter {
  const previous = logged.filter((e) => e.attempt === record.attempt);
  return new Emitter(
    deps.eventSink,
    {
      tenant: record.intent.policy_ctx.tenant,
      agent_id: deps.agentId,
      run_id: record.run_id,
      attempt: record.attempt,
    },
    previous.length > 0 ? Math.max(...previous.map((e) => e.seq)) + 1 : 0,
    observe,
  );
}

/**
 * How a run begins: fresh, picked up after a restart, or branched off another run. `events` are
 * the run's events already logged (a fork begun again after a restart may have some).
 */
export type RunStart =
  | { kind: "new" }
  | { kind: "resume"; events: AgentEvent[] }
  /** `source` is null when this agent does not hold the run to fork from. */
  | {
      kind: "fork";
      sourceRunId: string;
      source: RunRecord | null;
      entryId: string | null;
      events: AgentEvent[];
    };

/**
 * Executes one run as one pi session, from run_started to its terminal event. Everything that
 * can stop a run early goes through `control`; the terminal event says why.
 */
export class RunExecution {
  readonly control = new RunControl();
  readonly done: Promise<RunRecord>;

  constructor(
    private readonly deps: ExecutorDeps,
    private record: RunRecord,
    private readonly start: RunStart,
    /** The tenant secrets central handed this attempt, for its adapters' calls. */
    private readonly secrets: Readonly<Record<string, string>>,
    /** Called when the run is over, before anyone awaiting `done` resumes. */
    onEnd: (execution: RunExecution) => void = () => {},
  ) {
    this.done = this.execute().finally(() => onEnd(this));
  }

  get runId(): string {
    return this.record.run_id;
  }

  private async execute(): Promise<RunRecord> {
    const { deps, start } = this;
    // Every attempt's events: a run continued under a new attempt keeps its budgets' counts.
    const previous = start.kind === "new" ? [] : start.events;
    const tenant = this.record.intent.policy_ctx.tenant;
    const view = new RunView(this.record.run_id, tenant, previous);
    // The agent stopped after logging the run's terminal event and before settling its record:
    // the run is over (a cancelled one must not make another tool call), so the record takes
    // what the log says (test/edge/runs/resume-fork.test.ts "settles a run that ended").
    if (isTerminal(runMachine, view.state.status)) return this.finish(view);
    const spans =
      deps.tracing?.run({
        agentId: deps.agentId,
        app: deps.app.app,
        parent: this.record.intent.trace ?? null,
      }) ?? null;
    const emitter = runEmitter(deps, this.record, previous, (event) => {
      view.observe(event);
      spans?.observe(event);
    });
    const run: RunContext = {
      record: this.record,
      agentId: deps.agentId,
      app: deps.app,
      workdir: deps.workdir,
      emitter,
      view,
      control: this.control,
      budget: this.record.budget,
      secrets: this.secrets,
    };
    const bridge = new EventBridge(run, {
      turns: view.turns,
      finishedToolCalls: previous.flatMap((e) =>
        e.kind === "tool_call_finished" ? [e.payload.tool_call_id] : [],
      ),
    });
    const startedAt =
      start.kind === "resume" && this.record.started_at
        ? Date.parse(this.record.started_at)
        : Date.now();
    const budget = new BudgetGuard(run, bridge, startedAt);
    const platform: ExtensionFactory[] = [
      bridge.extension(),
      loopGuard(run, bridge, deps.app.config.policy.loop),
      policyGuard(
        run,
        bridge,
        policyChain(
          deps.app,
          () => view.toolCallsAllowed,
          deps.adapters,
          () => deps.withheld.current().map((p) => p.path),
        ),
        (decision) =>
          decision.rule_id === "limits.max_tool_calls" ? budget.toolCallsExhausted() : undefined,
      ),
      budget.extension(),
      adapterTools(run, deps.adapters),
      ...(spans ? [spans.extension()] : []),
    ];

    let opened: { manager: SessionManager; file: string; forkedFrom: RunRecord["forked_from"] };
    try {
      opened = await this.openSession();
    } catch (error) {
      if (error instanceof ForkError)
        return this.fail(emitter, view, null, {
          category: "invalid_intent",
          reason: "fork_point_not_found",
          message: error.message,
        });
      throw error;
    }
    const treeRef = (): TreeRef => ({
      session_file: treeRefFile(deps.stateDir, opened.file),
      entry_id: opened.manager.getLeafId(),
    });

    let modelRef = chooseModel(deps.models, deps.centralReachable());
    let session: AgentSession;
    try {
      session = await createRunSession({
        stateDir: deps.stateDir,
        workdir: deps.workdir,
        shellSandbox: deps.shellSandbox,
        sessionManager: opened.manager,
        platformExtensions: platform,
        extensionPaths: deps.extensionPaths,
        extensionFactories: deps.extensionFactories,
        skillsDir: deps.app.skillsDir,
        systemPromptAppend: this.systemPromptAppend(),
        models: deps.models,
        model: modelRef,
        attribution: {
          runId: this.record.run_id,
          agentId: deps.agentId,
          app: deps.app.app,
          intentType: this.record.intent.type,
        },
        onExtensionError: (e) =>
          void emitter.emit("error", {
            category: "internal",
            code: "extension_error",
            message: redactedExcerpt(`${e.extensionPath} (${e.event}): ${e.error}`, 4096),
            fatal: false,
            detail: null,
          }),
      });
    } catch (error) {
      if (error instanceof SessionSetupError)
        return this.fail(emitter, view, treeRef(), {
          category: error.category,
          reason: error.reason,
          message: error.message,
        });
      throw error;
    }

    this.control.bindAbort(() => void session.abort());
    const deadline = this.armDeadline();
    budget.start();
    this.record = await deps.store.update(this.record.run_id, {
      tree_ref: treeRef(),
      model: formatModelRef(modelRef),
      started_at: this.record.started_at ?? nowTs(startedAt),
      forked_from: opened.forkedFrom,
    });
    await emitter.emit("run_started", {
      intent_id: this.record.intent.intent_id,
      intent_type: this.record.intent.type,
      app: deps.app.app,
      attempt: this.record.attempt,
      model: formatModelRef(modelRef),
      tree_ref: treeRef(),
      resumed: start.kind === "resume",
      forked_from: opened.forkedFrom,
      origin: this.record.origin,
    });

    let agentEnds = 0;
    const unsubscribeAgent = session.agent.subscribe((event) => {
      if (event.type === "agent_end") agentEnds += 1;
    });
    let compactingForOverflow = false;
    const unsubscribeSession = session.subscribe((event) => {
      if (event.type === "compaction_start")
        bridge.compactionStarted(compactingForOverflow ? "overflow" : event.reason);
      if (event.type === "auto_retry_start")
        void emitter.emit("error", {
          category: "model",
          code: "model_retry",
          message: redactedExcerpt(
            `retrying the model call (${event.attempt}/${event.maxAttempts}) in ${event.delayMs} ms after: ${event.errorMessage}`,
            4096,
          ),
          fatal: false,
          detail: null,
        });
    });
    const settle = async () => {
      for (;;) {
        await session.agent.waitForIdle();
        await bridge.agentEnded(agentEnds);
        if (!session.isRetrying && !session.agent.state.isStreaming) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };

    let harnessError: RunError | null = null;
    let doneResult: string | null = null;
    try {
      if (!this.control.stopped) {
        const next = await this.continuation(session, run, bridge);
        if (next.kind === "done") doneResult = next.result;
        else {
          if (next.kind === "prompt")
            await session.prompt(intentPrompt(this.record.intent), {
              expandPromptTemplates: false,
            });
          else await session.agent.continue();
          await settle();
          for (;;) {
            if (this.control.stopped) break;
            if (this.shouldFallBack(session, modelRef)) {
              modelRef = fallbackRef(deps.models);
              await this.switchToFallback(session, emitter, modelRef);
            } else if (!compactingForOverflow && overflowed(session)) {
              // Once per run: summarise the older context, then let the model go on.
              compactingForOverflow = true;
              await session.compact();
              repairTranscript(session);
              // The summary was a model call: it may have used up the budget.
              if (this.control.stopped) break;
            } else break;
            await session.agent.continue();
            await settle();
          }
        }
      }
    } catch (error) {
      harnessError = {
        category: "internal",
        reason: "harness_error",
        message: redactedExcerpt(error instanceof Error ? error.message : String(error), 4096),
      };
    } finally {
      budget.dispose();
      deadline?.cancel();
      await settle().catch(() => undefined);
      unsubscribeAgent();
      unsubscribeSession();
    }

    const final = lastAssistant(session.agent.state.messages);
    const tree = treeRef();
    let stop = this.control.stopRequest;
    try {
      if (stop?.kind === "checkpoint") {
        this.record = await deps.store.update(this.record.run_id, {
          tree_ref: tree,
          usage: view.usage,
        });
        // A cancel that came while the run was being saved overrides the checkpoint.
        stop = this.control.stopRequest;
        if (stop?.kind === "checkpoint") return this.record;
      }
      if (stop?.kind === "cancel") {
        await emitter.emit("run_cancelled", {
          reason: stop.reason,
          by: stop.by,
          usage: view.usage,
          tree_ref: tree,
        });
        return await this.finish(view);
      }
      const error: RunError | null =
        stop?.kind === "fail"
          ? stop.error
          : harnessError
            ? harnessError
            : doneResult !== null
              ? null
              : !final
                ? { category: "internal", reason: "no_answer", message: "the agent gave no answer" }
                : final.stopReason === "error"
                  ? {
                      category: "model",
                      reason: "model_error",
                      message: redactedExcerpt(final.errorMessage || "the model call failed", 4096),
                    }
                  : final.stopReason === "aborted"
                    ? {
                        category: "internal",
                        reason: "aborted",
                        message: "the session was aborted",
                      }
                    : null;
      if (error) return await this.fail(emitter, view, tree, error, startedAt);
      const result = redactedExcerpt(doneResult ?? (final ? messageText(final) : ""));
      await emitter.emit("run_completed", {
        result,
        usage: view.usage,
        duration_ms: Date.now() - startedAt,
        tree_ref: tree,
      });
      return await this.finish(view);
    } finally {
      session.dispose();
    }
  }

  private async openSession() {
    const { stateDir, workdir } = this.deps;
    switch (this.start.kind) {
      case "new": {
        const s = newRunSession(stateDir, `${this.record.run_id}-${this.record.attempt}`, workdir);
        return { ...s, forkedFrom: null };
      }
      case "resume": {
        const s = await reopenRunSession(stateDir, this.record.tree_ref, workdir);
        return { ...s, forkedFrom: this.record.forked_from };
      }
      case "fork": {
        const { source, sourceRunId, entryId } = this.start;
        if (!source)
          throw new ForkError(
            `run ${sourceRunId} is not on this agent; a fork runs on the agent that holds the source's session`,
          );
        const s = forkRunSession(stateDir, source.tree_ref, entryId, workdir);
        return {
          manager: s.manager,
          file: s.file,
          forkedFrom: { run_id: sourceRunId, entry_id: s.entryId },
        };
      }
    }
  }

  /** Repairs a restored transcript and decides how the run goes on. */
  private async continuation(
    session: AgentSession,
    run: RunContext,
    bridge: EventBridge,
  ): Promise<Continuation> {
    if (this.start.kind === "new") return { kind: "prompt" };
    // A fork's copied calls belong to the run it was forked from, which may still be running.
    const notes =
      this.start.kind === "resume"
        ? await this.stopInterruptedWork(session, run, this.start.events)
        : new Map<string, string>();
    for (const call of repairTranscript(session, notes)) {
      const text = interruptedText(notes.get(call.toolCallId));
      if (!bridge.hasFinished(call.toolCallId))
        await bridge.interrupted(call.toolCallId, call.tool, text);
      await run.emitter.emit("message", {
        role: "tool",
        text,
        entry_id: call.entryId,
        turn: bridge.currentTurn,
      });
    }
    const next = continuationOf(session.agent.state.messages);
    // A fork that ends on a finished answer takes the intent's prompt as its next instruction.
    if (this.start.kind === "fork" && next.kind === "done") return { kind: "prompt" };
    return next;
  }

  /**
   * A crash (SIGKILL, power) cuts tool calls off without stopping what they started remotely:
   * a Ray job, a ROS goal. Before the model goes on, each adapter tool that can find such work
   * from the call's identity (with the attempt the call ran under) stops it. Returns what was
   * done, by tool call id, for the interrupted results.
   */
  private async stopInterruptedWork(
    session: AgentSession,
    run: RunContext,
    events: readonly AgentEvent[],
  ): Promise<Map<string, string>> {
    const startedUnder = new Map<string, number>();
    const finished = new Set<string>();
    for (const e of events) {
      if (e.kind === "tool_call_started" && e.attempt !== null)
        startedUnder.set(e.payload.tool_call_id, e.attempt);
      if (e.kind === "tool_call_finished") finished.add(e.payload.tool_call_id);
    }
    const tools = new Map(this.deps.adapters.flatMap((a) => a.tools).map((t) => [t.name, t]));
    const notes = new Map<string, string>();
    await Promise.all(
      pendingCalls(session).map(async (call) => {
        const attempt = startedUnder.get(call.toolCallId);
        const tool = tools.get(call.tool);
        // A call whose start is not logged never ran (its start is on disk before it runs).
        if (attempt === undefined || finished.has(call.toolCallId) || !tool?.interrupted) return;
        try {
          const note = await tool.interrupted(
            call.args,
            callIdentity(run, call.toolCallId, attempt),
          );
          if (note) notes.set(call.toolCallId, note);
        } catch (error) {
          notes.set(
            call.toolCallId,
            `Stopping the remote work it started failed: ${redactedExcerpt(errorText(error), 2_000)}`,
          );
        }
      }),
    );
    return notes;
  }

  /** The gateway went away mid-run and a local model is configured: carry on with that. */
  private shouldFallBack(session: AgentSession, current: ModelRef): boolean {
    if (current.provider !== GATEWAY_PROVIDER || !this.deps.models.fallback) return false;
    const final = lastAssistant(session.agent.state.messages);
    if (final?.stopReason !== "error") return false;
    const kind = classifyError(final.errorMessage);
    return kind === "connection" || kind === "timeout" || /^5\d\d$/.test(kind);
  }

  private async switchToFallback(session: AgentSession, emitter: Emitter, model: ModelRef) {
    const messages = session.agent.state.messages;
    if (messages.at(-1)?.role === "assistant") session.agent.state.messages = messages.slice(0, -1);
    const found = session.modelRuntime.getModel(model.provider, model.id);
    if (!found) throw new Error(`fallback model ${formatModelRef(model)} is not registered`);
    await session.setModel(found);
    this.record = await this.deps.store.update(this.record.run_id, {
      model: formatModelRef(model),
    });
    await emitter.emit("error", {
      category: "infrastructure",
      code: "model_fallback",
      message: `central's gateway is unreachable; continuing on the local fallback ${formatModelRef(model)}`,
      fatal: false,
      detail: null,
    });
  }

  private systemPromptAppend(): string[] {
    const { app, workdir } = this.deps;
    const lines = [
      `You are an Auraison edge agent for the app '${app.app}', running a '${this.record.intent.type}' intent.`,
      `Your working directory is ${workdir}; file tools must stay inside it (skills may be read where they are).`,
      "Every tool call is checked by policy; a refused call returns the reason instead of a result. Do not retry a refused call unchanged.",
    ];
    return app.config.instructions
      ? [lines.join("\n"), app.config.instructions]
      : [lines.join("\n")];
  }

  private armDeadline(): TimerAt | undefined {
    const deadline = this.record.intent.deadline;
    if (!deadline) return undefined;
    const stop = () =>
      this.control.stop({
        kind: "fail",
        error: {
          category: "timeout",
          reason: "deadline_exceeded",
          message: `the intent's deadline ${deadline} passed`,
        },
      });
    return timerAt(Date.parse(deadline), stop);
  }

  private async fail(
    emitter: Emitter,
    view: RunView,
    tree: TreeRef | null,
    error: RunError,
    startedAt = Date.now(),
  ): Promise<RunRecord> {
    await emitter.emit("run_failed", {
      error,
      usage: view.usage,
      duration_ms: Date.now() - startedAt,
      tree_ref: tree,
    });
    return this.finish(view);
  }

  /** The run's terminal event is logged: its record takes the run's outcome (RunView). */
  private async finish(view: RunView): Promise<RunRecord> {
    const { status, changes } = view.outcome;
    this.record = await this.deps.store.settle(this.record.run_id, status, changes);
    return this.record;
  }
}

/** The last model call failed because the context no longer fits the model's window. */
function overflowed(session: AgentSession): boolean {
  const final = lastAssistant(session.agent.state.messages);
  return final !== undefined && isContextOverflow(final, session.model?.contextWindow ?? 0);
}

function lastAssistant(messages: readonly AgentMessage[]): AssistantMessage | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role === "assistant") return m;
  }
  return undefined;
}
