import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Where `npm run planning:python` puts unified-planning and Fast Downward (up-fast-downward). */
export const PLANNING_PYTHON = fileURLToPath(new URL("../../.planning/python", import.meta.url));
const DRIVER = join(PLANNING_PYTHON, "up_fast_downward", "downward", "fast-downward.py");

export const hasPlanningPython = (): boolean => existsSync(DRIVER);

/** Fast Downward configurations the benchmark and the tests compare against. */
export const FD_CONFIGS = {
  "lama-first": ["--alias", "lama-first"],
  "astar(lmcut)": ["--search", "astar(lmcut())"],
} as const;

export interface FdRun {
  /** Plan cost, or null when no plan was found. */
  cost: number | null;
  actions: string[];
  /** The driver's own "Planner time" (the CPU time of translate + search), in ms. */
  plannerMs: number;
  /** CPU time (user + system) of the driver's children: translate and search, in ms. */
  cpuMs: number;
  /** Wall time of the whole process (Python start included), in ms. */
  wallMs: number;
}

const CPU_WRAPPER = `
import resource, subprocess, sys
subprocess.run(sys.argv[1:])
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print("cpu-ms", (usage.ru_utime + usage.ru_stime) * 1000)
`;

/** Runs Fast Downward's driver on PDDL text in a scratch directory. */
export function runFastDownward(
  domain: string,
  problem: string,
  config: keyof typeof FD_CONFIGS,
  timeLimitS = 300,
): FdRun {
  const dir = mkdtempSync(join(tmpdir(), "fd-"));
  try {
    writeFileSync(join(dir, "domain.pddl"), domain);
    writeFileSync(join(dir, "problem.pddl"), problem);
    const started = performance.now();
    // The driver runs under a small wrapper that reports the CPU time of everything it ran
    // (translate and search), which a loaded machine distorts far less than wall time.
    const run = spawnSync(
      "python3",
      [
        "-c",
        CPU_WRAPPER,
        "python3",
        DRIVER,
        "--plan-file",
        "plan",
        "--overall-time-limit",
        `${timeLimitS}s`,
        ...(config === "lama-first" ? FD_CONFIGS[config] : []),
        "domain.pddl",
        "problem.pddl",
        ...(config === "lama-first" ? [] : FD_CONFIGS[config]),
      ],
      { cwd: dir, encoding: "utf8", env: { ...process.env, PYTHONPATH: PLANNING_PYTHON } },
    );
    const wallMs = performance.now() - started;
    const planner = /Planner time: ([\d.]+)s/.exec(run.stdout);
    const cpuMs = Number(/^cpu-ms (\S+)$/m.exec(run.stdout)?.[1] ?? Number.NaN);
    const planFile = join(dir, "plan");
    if (!existsSync(planFile))
      return {
        cost: null,
        actions: [],
        plannerMs: Number(planner?.[1] ?? Number.NaN) * 1000,
        cpuMs,
        wallMs,
      };
    const text = readFileSync(planFile, "utf8");
    return {
      cost: Number(/; cost = (\d+)/.exec(text)?.[1]),
      actions: text.split("\n").filter((l) => l.startsWith("(")),
      plannerMs: Number(planner?.[1]) * 1000,
      cpuMs,
      wallMs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
