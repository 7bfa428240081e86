/**
 * What the shell sandbox costs per `bash` call: the same command, spawned the way pi's bash
 * spawns it (`/bin/bash -c <command>`, minimal environment), unconfined and through
 * `sandboxed()` (bubblewrap with the agent's layout: its state and two more paths withheld, the
 * workdir inside the state, as by default).
 *
 *   npx tsx bench/shell-sandbox.ts          # small: proves it works
 *   npx tsx bench/shell-sandbox.ts --full   # writes bench/results/shell-sandbox.md
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { minimalEnv } from "../edge/child-env";
import { prepareShellSandbox, sandboxed } from "../edge/session/shell-sandbox";
import { WithheldPaths } from "../edge/withheld-paths";
import { writeResults } from "./edge-report";
import { fmt, median, percentile } from "./stats";

const full = process.argv.includes("--full");
const CALLS = full ? 300 : 20;
const COMMANDS = ["true", "ls -la >/dev/null && echo done"];

const root = mkdtempSync(join(tmpdir(), "bench-sandbox-"));
const state = join(root, "state");
const workdir = join(state, "work");
mkdirSync(workdir, { recursive: true });
mkdirSync(join(root, "home"));
writeFileSync(join(root, "agent.key"), "aur_agent_bench_key");
const withheld = WithheldPaths.open([state, join(root, "home"), join(root, "agent.key")]);
const sandbox = prepareShellSandbox("bwrap", { workdir, withheld });

/** Milliseconds per call of `command`, spawned as pi's bash spawns it. */
function timed(command: string, confined: boolean): number[] {
  const base = { command, env: minimalEnv() };
  const { command: line, env } = confined ? sandboxed(sandbox, base) : base;
  const times: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const started = performance.now();
    // stdin as pi gives it (nothing): a socket there would make bash read ~/.bashrc, as for ssh.
    const run = spawnSync("/bin/bash", ["-c", line], {
      cwd: workdir,
      env,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    times.push(performance.now() - started);
    if (run.status !== 0)
      throw new Error(`${command}: exit ${run.status ?? run.signal}: ${run.stderr}`);
  }
  return times.sort((a, b) => a - b);
}

const loadBefore = loadavg()[0]!;
const rows: string[] = [];
for (const command of COMMANDS) {
  // Alternating keeps both under the same load.
  const plain: number[] = [];
  const confined: number[] = [];
  for (let round = 0; round < 3; round++) {
    plain.push(...timed(command, false));
    confined.push(...timed(command, true));
  }
  plain.sort((a, b) => a - b);
  confined.sort((a, b) => a - b);
  rows.push(
    `| \`${command}\` | ${fmt(median(plain), 2)} ms | ${fmt(median(confined), 2)} ms | ${fmt(median(confined) - median(plain), 2)} ms | ${fmt(percentile(plain, 99), 2)} ms | ${fmt(percentile(confined, 99), 2)} ms |`,
  );
}
withheld.close();
const loadAfter = loadavg()[0]!;

const body = `
${3 * CALLS} calls of each command each way, in three alternating rounds, spawned as pi's bash
spawns a command (\`/bin/bash -c\`, the minimal environment), unconfined and through
\`sandboxed()\` (edge/session/shell-sandbox.ts: bubblewrap, its own PID namespace and /proc,
no capabilities, inherited descriptors closed, three withheld paths, the workdir bound back).
The 1-minute load average was ${fmt(loadBefore, 2)} before and ${fmt(loadAfter, 2)} after
(the machine is shared).

| command | unconfined, median | sandboxed, median | the sandbox's cost | unconfined, p99 | sandboxed, p99 |
| --- | ---: | ---: | ---: | ---: | ---: |
${rows.join("\n")}

A model's turn takes hundreds of milliseconds to seconds; the sandbox adds the cost above to each
\`bash\` call, nothing to other tools.
`;

if (full)
  console.log(`wrote ${writeResults("shell-sandbox", "Shell sandbox cost per bash call", body)}`);
else console.log(body);
