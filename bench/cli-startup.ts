/**
 * How fast the `auraison` command starts: `--version`, and a first request to central
 * (`agents list`), against targets of 300 ms and 600 ms. Each is timed from spawn to exit, as a
 * user waits for it, like hyperfine: warm-up runs, then rounds that run every variant once in
 * turn, so the shared machine's load falls on all alike.
 *
 * Variants: the command as shipped (built JavaScript in dist/, Node's compile cache warm), the
 * same with the compile cache off (the first start after an install or an edit), and the peer,
 * the previous launcher (tsx compiling the TypeScript sources at every start, its cache warm).
 * Central is a stub answering `GET /v1/agents`, so the figure is the CLI's own.
 *
 *   npx tsx bench/cli-startup.ts [--rounds 20]
 */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { PROJECT_ROOT } from "../cli/wrangler";
import { AgentList, CONTRACT_VERSION } from "../contract";
import { writeResults } from "./edge-report";
import { fmt, percentile } from "./stats";

const rounds = Number(process.argv[process.argv.indexOf("--rounds") + 1]) || 20;
const WARMUP = 3;
const TARGET_MS = { version: 300, request: 600 };
const BIN = join(PROJECT_ROOT, "bin", "auraison.js");

/** The launcher bin/auraison.js was before dist/: tsx compiling the sources on load. */
function tsxLauncher(): string {
  const file = join(mkdtempSync(join(tmpdir(), "auraison-bench-")), "auraison-tsx.mjs");
  writeFileSync(
    file,
    [
      `import { register } from ${JSON.stringify(pathToFileURL(join(PROJECT_ROOT, "node_modules/tsx/dist/esm/api/index.mjs")).href)};`,
      "register();",
      `const { run } = await import(${JSON.stringify(pathToFileURL(join(PROJECT_ROOT, "cli/main.ts")).href)});`,
      "process.exitCode = await run(process.argv.slice(2));",
    ].join("\n"),
  );
  return file;
}

/** A central that answers `GET /v1/agents` with one agent, as the real one would. */
async function stubCentral(): Promise<{ url: string; close(): void }> {
  const now = new Date().toISOString();
  const body = AgentList.parse({
    agents: [
      {
        agent_id: "host-1.lab-notes",
        app: "lab-notes",
        status: "online",
        skills: [],
        capabilities: [],
        harness: { name: "pi", version: "1.6.0" },
        agent_version: "0.1.0",
        max_concurrency: 2,
        running: [],
        connected_at: now,
        last_heartbeat_at: now,
        status_since: now,
      },
    ],
  });
  const server = createServer((request, response) => {
    request.resume();
    if (request.method === "GET" && request.url?.startsWith("/v1/agents")) {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    } else {
      response.writeHead(404, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: { code: "not_found", message: "stub" } }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => server.close(),
  };
}

interface Variant {
  name: string;
  command: "version" | "request";
  script: string;
  env: NodeJS.ProcessEnv;
}

interface Timing {
  /** From spawn to exit, as a user waits. */
  wallMs: number;
  /** User + system CPU of the command: what the load of a shared machine does not stretch. */
  cpuMs: number;
}

/**
 * Times one run; throws unless it exits 0 with the expected output. The command runs under
 * bash, whose `times` reports its children's CPU time (Node has no getrusage for children);
 * bash adds about 3 ms of wall time to every variant alike.
 */
function timeOnce(variant: Variant, args: string[], expect: string): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(
      "bash",
      [
        "-c",
        'out=$("$@" 2>&1); code=$?; printf "%s\\n" "$out"; times; exit $code',
        "bash",
        process.execPath,
        variant.script,
        ...args,
      ],
      {
        cwd: PROJECT_ROOT,
        env: { ...process.env, ...variant.env },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    child.on("exit", (code) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      // `times`: the shell's user and system time, then its children's.
      const children = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(out);
      if (code !== 0 || !out.includes(expect) || !children)
        return reject(new Error(`${variant.name} exited ${code}:\n${out}`));
      const [, um, us, sm, ss] = children.map(Number) as number[];
      resolve({ wallMs, cpuMs: ((um! + sm!) * 60 + us! + ss!) * 1000 });
    });
  });
}

const central = await stubCentral();
const shipped = BIN;
const peer = tsxLauncher();
const requestEnv = { AURAISON_URL: central.url, AURAISON_KEY: "aur_viewer_lab_benchmark" };
const noCache = { NODE_DISABLE_COMPILE_CACHE: "1" };
const variants: Variant[] = [
  { name: "dist/ (shipped)", command: "version", script: shipped, env: {} },
  { name: "dist/, no compile cache", command: "version", script: shipped, env: noCache },
  { name: "tsx from sources (before)", command: "version", script: peer, env: {} },
  { name: "dist/ (shipped)", command: "request", script: shipped, env: requestEnv },
  {
    name: "dist/, no compile cache",
    command: "request",
    script: shipped,
    env: { ...requestEnv, ...noCache },
  },
  { name: "tsx from sources (before)", command: "request", script: peer, env: requestEnv },
];
const ARGS = { version: ["--version"], request: ["agents", "list"] };
const EXPECT = { version: `contract ${CONTRACT_VERSION}`, request: "host-1.lab-notes" };

const loadBefore = loadavg();
const samples = new Map<Variant, Timing[]>(variants.map((v) => [v, []]));
for (let round = -WARMUP; round < rounds; round++) {
  for (const variant of variants) {
    const timing = await timeOnce(variant, ARGS[variant.command], EXPECT[variant.command]);
    if (round >= 0) samples.get(variant)!.push(timing);
  }
  process.stderr.write(round < 0 ? "." : `\rround ${round + 1}/${rounds}`);
}
process.stderr.write("\n");
central.close();
const loadAfter = loadavg();

const sorted = (variant: Variant, key: keyof Timing) =>
  samples
    .get(variant)!
    .map((t) => t[key])
    .sort((a, b) => a - b);
const rows: string[] = [];
const verdicts: string[] = [];
for (const variant of variants) {
  const wall = sorted(variant, "wallMs");
  const mean = wall.reduce((a, b) => a + b, 0) / wall.length;
  const sd = Math.sqrt(wall.reduce((a, b) => a + (b - mean) ** 2, 0) / wall.length);
  const median = percentile(wall, 50);
  const cpu = percentile(sorted(variant, "cpuMs"), 50);
  const label = variant.command === "version" ? "`auraison --version`" : "`auraison agents list`";
  rows.push(
    `| ${label} | ${variant.name} | ${fmt(median, 0)} | ${fmt(mean, 0)} ± ${fmt(sd, 0)} | ${fmt(wall[0]!, 0)} | ${fmt(percentile(wall, 90), 0)} | ${fmt(cpu, 0)} |`,
  );
  if (variant.script === shipped && !variant.env.NODE_DISABLE_COMPILE_CACHE) {
    const target = TARGET_MS[variant.command];
    verdicts.push(
      `- ${label}: median ${fmt(median, 0)} ms (p90 ${fmt(percentile(wall, 90), 0)} ms, CPU ${fmt(cpu, 0)} ms) against a target of ${target} ms: ${median < target ? "met" : "NOT met"}.`,
    );
  }
}
const speedup = (command: Variant["command"]) => {
  const median = (script: string) =>
    percentile(
      sorted(
        variants.find(
          (v) => v.command === command && v.script === script && !v.env.NODE_DISABLE_COMPILE_CACHE,
        )!,
        "wallMs",
      ),
      50,
    );
  return fmt(median(peer) / median(shipped), 1);
};
const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(", ");

const file = writeResults(
  "cli-startup",
  "CLI start-up",
  `
Wall time from spawn to exit of \`node bin/auraison.js\`, as a user waits for it (run under bash,
which adds about 3 ms alike to all), and its CPU time (user + system), which the load of a shared
machine stretches less: ${rounds} rounds after ${WARMUP} warm-up rounds, every variant once per round
in turn. The first request is \`auraison agents list\` against a stub central on 127.0.0.1
answering one agent (the CLI's own time: resolve settings, one HTTP request, validate the answer
against the contract, print).
Load average ${load(loadBefore)} before, ${load(loadAfter)} after (the machine is shared).

| command | variant | median ms | mean ± sd ms | min | p90 | median CPU ms |
| --- | --- | ---: | ---: | ---: | ---: | ---: |
${rows.join("\n")}

${verdicts.join("\n")}
- Against the previous launcher (tsx compiling the TypeScript sources at each start), the shipped
  command starts ${speedup("version")}x faster to \`--version\` and ${speedup("request")}x faster to a first request.
- Variants: **dist/ (shipped)** is \`bin/auraison.js\` as installed: the esbuild bundle in dist/
  (bin/build.js), split so that pi and DuckDB load only for the commands that use them, with
  Node's compile cache warm. **no compile cache** is the same with \`NODE_DISABLE_COMPILE_CACHE=1\`,
  as the first start after an install or an edit runs. **tsx from sources** is the launcher before
  dist/: tsx's loader compiling \`cli/main.ts\` and its imports at each start (its own transform
  cache warm).
`,
);
console.log(`wrote ${file}`);
