import { readdirSync, readFileSync } from "node:fs";

/** CPU (user + system, ms) Linux has charged to these processes so far. */
export function cpuMs(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids)
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {}
  // USER_HZ is 100 on Linux.
  return ticks * 10;
}

/**
 * The workerd processes this process has started so far (wrangler dev's is a child of wrangler,
 * not of this process). Taken right after central starts under Miniflare, before any other
 * workerd, it is central's: the Worker's and the tenant object's CPU, settlements included.
 */
export function childWorkerdPids(): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        return (
          ppid === process.pid && readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "workerd"
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}
