import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PROJECT_ROOT } from "../../cli/wrangler";

/**
 * A copy of this checkout as a clean clone of the working tree would be: the files git tracks
 * and the new ones it does not ignore, as they are now (so no node_modules, dist or state).
 * `nodeModules: "link"` points it at this checkout's installed packages.
 */
export function copyCheckout(options: { nodeModules?: "link" } = {}): string {
  const dest = mkdtempSync(join(tmpdir(), "auraison-checkout-"));
  const files = execFileSync(
    "git",
    ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    {
      cwd: PROJECT_ROOT,
      encoding: "utf8",
    },
  )
    .split("\0")
    .filter(Boolean);
  for (const file of files) {
    const from = join(PROJECT_ROOT, file);
    if (!existsSync(from)) continue; // deleted in the working tree
    mkdirSync(dirname(join(dest, file)), { recursive: true });
    copyFileSync(from, join(dest, file));
  }
  if (options.nodeModules === "link")
    symlinkSync(join(PROJECT_ROOT, "node_modules"), join(dest, "node_modules"), "dir");
  return dest;
}
