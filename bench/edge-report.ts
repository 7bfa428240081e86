import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { VERSION as PI_VERSION } from "@earendil-works/pi-coding-agent";

/** The machine a figure was measured on, as the results files state it. */
export function machine(): string {
  const cpu = cpus();
  return `${cpu.length} cores (${cpu[0]?.model.trim() ?? "unknown cpu"}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version.slice(1)}, pi ${PI_VERSION}, ${process.platform}`;
}

/** Writes `bench/results/<name>.md`: title, date, machine, then the body. */
export function writeResults(name: string, title: string, body: string): string {
  const file = join(dirname(fileURLToPath(import.meta.url)), "results", `${name}.md`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    `# ${title}\n\nMeasured ${new Date().toISOString().slice(0, 10)} on ${machine()}.\n\n${body.trim()}\n`,
  );
  return file;
}
