/**
 * Central's PDDL planner against Fast Downward on a size ladder of generated IPC instances:
 * our greedy search vs FD lama-first, our A* with LM-cut vs FD astar(lmcut), solve time and
 * plan cost side by side in one run. Medians of a few runs (the machine is shared).
 *
 *   npm run planning:python && npx tsx bench/pddl-planners.ts [--runs 3] [--limit 120]
 */

import { solve } from "../central/planning/pddl";
import { readDomain, readProblem } from "../contract/pddl";
import { numberArg, writeResults } from "./central-report";
import { ipcDomain } from "./pddl/domains";
import { type FdRun, hasPlanningPython, runFastDownward } from "./pddl/fast-downward";
import { fmt, median } from "./stats";

const RUNS = numberArg("runs", 3);
const LIMIT_S = numberArg("limit", 120);

const LADDER: { mode: "greedy" | "optimal"; domain: string; sizes: number[] }[] = [
  { mode: "greedy", domain: "blocksworld", sizes: [10, 20, 40, 60] },
  { mode: "greedy", domain: "gripper", sizes: [20, 40, 80] },
  { mode: "greedy", domain: "logistics", sizes: [8, 16, 24, 32] },
  { mode: "greedy", domain: "miconic", sizes: [20, 40, 60] },
  { mode: "greedy", domain: "visitall", sizes: [6, 10, 14] },
  { mode: "greedy", domain: "transport", sizes: [8, 12, 16, 20] },
  { mode: "optimal", domain: "blocksworld", sizes: [6, 8, 10, 12] },
  { mode: "optimal", domain: "gripper", sizes: [4, 6, 8] },
  { mode: "optimal", domain: "logistics", sizes: [4, 6, 8] },
  { mode: "optimal", domain: "miconic", sizes: [6, 8, 10, 12] },
  { mode: "optimal", domain: "visitall", sizes: [4, 5, 6] },
  { mode: "optimal", domain: "transport", sizes: [3, 4, 5, 6] },
];

interface Ours {
  ms: number;
  cpuMs: number;
  cost: number | null;
  expanded: number;
  status: string;
}

function ours(domainText: string, problemText: string, optimal: boolean): Ours {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const domain = readDomain(domainText);
  const result = solve(domain, readProblem(problemText, domain), {
    optimal,
    deadline: Date.now() + LIMIT_S * 1000,
  });
  const used = process.cpuUsage(cpu);
  return {
    ms: performance.now() - started,
    cpuMs: (used.user + used.system) / 1000,
    cost: result.status === "solved" ? result.cost : null,
    expanded: result.stats.expanded,
    status: result.status === "limit" ? `limit (${result.reason})` : result.status,
  };
}

if (!hasPlanningPython()) {
  console.error("Fast Downward is missing: run `npm run planning:python` first");
  process.exit(1);
}

const rows: string[][] = [];
const totals = { greedy: { ours: 0, fd: 0 }, optimal: { ours: 0, fd: 0 } };
for (const { mode, domain: name, sizes } of LADDER) {
  const d = ipcDomain(name);
  for (const size of sizes) {
    const problem = d.problem(size, 1);
    const our: Ours[] = [];
    const fd: FdRun[] = [];
    for (let r = 0; r < RUNS; r++) {
      our.push(ours(d.domain, problem, mode === "optimal"));
      fd.push(
        runFastDownward(
          d.domain,
          problem,
          mode === "optimal" ? "astar(lmcut)" : "lama-first",
          LIMIT_S,
        ),
      );
      if (our[0]!.cost === null && fd[0]!.cost === null) break;
    }
    const ourMs = median(our.map((o) => o.ms));
    const ourCpu = median(our.map((o) => o.cpuMs));
    const fdMs = median(fd.map((f) => f.wallMs));
    const fdCpu = median(fd.map((f) => f.cpuMs));
    const solvedOurs = our[0]!.cost !== null;
    const solvedFd = fd[0]!.cost !== null;
    const time = (ms: number, solved: boolean) => (solved ? fmt(ms / 1000, 2) : `>${LIMIT_S}`);
    rows.push([
      mode === "optimal" ? "optimal" : "satisficing",
      `${name} ${size}`,
      time(ourMs, solvedOurs),
      time(ourCpu, solvedOurs),
      solvedOurs ? String(our[0]!.cost) : our[0]!.status,
      String(our[0]!.expanded),
      time(fdMs, solvedFd),
      time(fdCpu, solvedFd),
      solvedFd ? String(fd[0]!.cost) : "-",
    ]);
    if (solvedOurs && solvedFd) {
      totals[mode].ours += ourCpu;
      totals[mode].fd += fdCpu;
    }
    console.log(rows[rows.length - 1]!.join("  "));
  }
}

const table = [
  "| Mode | Instance | Ours wall (s) | Ours CPU (s) | Our cost | Our expansions | FD wall (s) | FD CPU (s) | FD cost |",
  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ...rows.map((r) => `| ${r.join(" | ")} |`),
].join("\n");

const file = writeResults(
  "pddl-planners",
  "PDDL planning: central's planner vs Fast Downward",
  `Generated instances (bench/pddl/domains.ts, seed 1) on a size ladder per domain. **Satisficing**: our lazy greedy best-first search with FF and preferred operators, then action elimination, vs Fast Downward's \`lama-first\`. **Optimal**: our A* with LM-cut vs Fast Downward's \`astar(lmcut())\`. Our time is parse + ground + search + deorder in one Node process (the same code runs in workerd), wall and CPU. FD's wall time is its whole driver process (Python start-up included); its CPU time is that of the processes the driver ran, translate and search (the figure FD's driver itself reports as "planner time"). On this shared machine wall times stretch with other engineers' load (a CPU-bound process gets a fraction of a core), CPU times much less: compare CPU. Medians of ${RUNS} runs; limit ${LIMIT_S} s per run; Fast Downward from \`up-fast-downward\` 1.0.0 (PyPI).

${table}

CPU time summed over the instances both solved: satisficing ours ${fmt(totals.greedy.ours / 1000, 2)} s vs FD ${fmt(totals.greedy.fd / 1000, 2)} s; optimal ours ${fmt(totals.optimal.ours / 1000, 2)} s vs FD ${fmt(totals.optimal.fd / 1000, 2)} s.
`,
);
console.log(`wrote ${file}`);
