import { resolve } from "node:path";
import { type ManagedProcess, spawnManaged } from "../../cli/local-stack/processes";
import {
  AgentList,
  type CentralClient,
  isTerminal,
  PATHS,
  RunState,
  runMachine,
} from "../../contract";
import { BIN } from "./cli";

/** The sample apps the repository ships, as the end-to-end tests run them. */
export const SAMPLE_APP = resolve("examples/apps/lab-notes");
export const SAMPLE_APPS = {
  "lab-notes": SAMPLE_APP,
  "sim-bench": resolve("examples/apps/sim-bench"),
};

/** A real `auraison edge start` for a sample app (lab-notes unless `app` says), connected to central. */
export function startSampleEdge(options: {
  app?: keyof typeof SAMPLE_APPS;
  agentId: string;
  state: string;
  central: { url: string; key: string };
  /** A pi model (`provider/id`); default: the edge's own resolution (central's gateway). */
  model?: string;
  name?: string;
  /** More environment, e.g. OTEL_EXPORTER_OTLP_ENDPOINT. */
  env?: Record<string, string>;
  /** Another copy of the app's folder (default: the one the repository ships). */
  appDir?: string;
}): ManagedProcess {
  return spawnManaged(
    options.name ?? "edge",
    process.execPath,
    [
      BIN,
      "edge",
      "start",
      "--app",
      options.app ?? "lab-notes",
      "--app-dir",
      options.appDir ?? SAMPLE_APPS[options.app ?? "lab-notes"],
      "--agent-id",
      options.agentId,
      "--state",
      options.state,
      ...(options.model ? ["--model", options.model] : []),
    ],
    {
      env: {
        ...process.env,
        AURAISON_URL: options.central.url,
        AURAISON_KEY: options.central.key,
        ...options.env,
      },
    },
  );
}

/** `auraison dev` (what `npm start` runs), once it says it is up. */
export async function startDevStack(
  port: number,
  env: Record<string, string>,
): Promise<ManagedProcess> {
  const proc = spawnManaged("dev", process.execPath, [BIN, "dev", "--port", String(port)], {
    env: { ...process.env, ...env },
  });
  const until = Date.now() + 240_000;
  while (!proc.output().includes("Ctrl-C stops everything")) {
    if (proc.child.exitCode !== null) throw new Error(`auraison dev exited:\n${proc.output()}`);
    if (Date.now() > until) throw new Error(`auraison dev did not come up:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return proc;
}

/** Waits until central lists the agent online (90 s), or fails with the agent's output. */
export async function agentOnline(
  admin: CentralClient,
  agentId: string,
  edge: ManagedProcess,
): Promise<void> {
  const until = Date.now() + 90_000;
  for (;;) {
    const { agents } = await admin.request("GET", PATHS.agents, AgentList);
    if (agents.some((a) => a.agent_id === agentId && a.status === "online")) return;
    if (edge.child.exitCode !== null || Date.now() > until)
      throw new Error(`the edge agent did not come up:\n${edge.output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Polls central until the run has ended (90 s), or fails with the agent's output. */
export async function runEnded(
  admin: CentralClient,
  run: RunState,
  edge: ManagedProcess,
): Promise<RunState> {
  const until = Date.now() + 90_000;
  while (!isTerminal(runMachine, run.status)) {
    if (Date.now() > until) throw new Error(`run still ${run.status}:\n${edge.output()}`);
    await new Promise((r) => setTimeout(r, 250));
    run = await admin.request("GET", `${PATHS.runs}/${run.run_id}`, RunState);
  }
  return run;
}
