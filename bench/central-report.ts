import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fmt, percentile } from "./stats";

const root = fileURLToPath(new URL("..", import.meta.url));

/** An installed package's version (one wrangler and one workerd: test/toolchain.test.ts). */
function version(pkg: string): string {
  return (
    JSON.parse(readFileSync(join(root, "node_modules", pkg, "package.json"), "utf8")) as {
      version: string;
    }
  ).version;
}

/** The machine a figure was measured on, as the results files state it. */
export function machine(): string {
  const cpu = cpus();
  return `${cpu.length} cores (${cpu[0]?.model.trim() ?? "unknown cpu"}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version.slice(1)}, wrangler ${version("wrangler")} (workerd ${version("workerd")}), agents ${version("agents")}, ${process.platform}`;
}

/** Writes `bench/results/<name>.md`: title, date, machine, then the body. */
export function writeResults(name: string, title: string, body: string): string {
  const file = join(root, "bench", "results", `${name}.md`);
  mkdirSync(dirname(file), { recursive: true });
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(", ");
  writeFileSync(
    file,
    `# ${title}\n\nMeasured ${new Date().toISOString().slice(0, 10)} on ${machine()}; load average ${load} when written (the machine is shared).\n\n${body.trim()}\n`,
  );
  return file;
}

/** A latency table's row (p50, p99, max in ms), printed as it is made. */
export function latencyRow(name: string, values: readonly number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  console.log(
    `${name}: p50 ${fmt(percentile(sorted, 50), 2)} ms, p99 ${fmt(percentile(sorted, 99), 2)} ms`,
  );
  return `| ${name} | ${fmt(percentile(sorted, 50), 2)} | ${fmt(percentile(sorted, 99), 2)} | ${fmt(sorted.at(-1)!, 2)} |`;
}

/** Resident memory (KiB) of every process in a process group, by /proc (Linux). */
export function groupRssKiB(pgid: number): { pid: number; comm: string; rssKiB: number }[] {
  const out: { pid: number; comm: string; rssKiB: number }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) !== pgid) continue;
      const status = readFileSync(`/proc/${entry}/status`, "utf8");
      const rss = /VmRSS:\s+(\d+) kB/.exec(status);
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (rss) out.push({ pid: Number(entry), comm, rssKiB: Number(rss[1]) });
    } catch {}
  }
  return out;
}

/** `--flag value` from the command line, as a number. */
export function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
