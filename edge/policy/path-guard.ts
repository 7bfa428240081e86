import { own, type PolicyHook } from "../../contract";
import { withheldAt, withheldWithin } from "../withheld-paths";
import { resolveReadPath, resolveToCwd } from "./pi-paths";
import { inside, realPath, realPathOrNull } from "./real-path";

/** Built-in tools that take a path, and whether they may change what is there. */
const FILE_TOOLS: Record<string, { writes: boolean; optional: boolean }> = {
  read: { writes: false, optional: false },
  write: { writes: true, optional: false },
  edit: { writes: true, optional: false },
  ls: { writes: false, optional: true },
  grep: { writes: false, optional: true },
  find: { writes: false, optional: true },
};

/**
 * Keeps file tools inside the run's working directory. Reads may also reach the app's
 * read-only roots (its skills, which the model reads SKILL.md and scripts from). The guard
 * judges the path pi's tool will open — resolved as pi resolves it (`@` prefix, `~`, `file://`
 * URLs, and for read the filename variants it falls back to; see ./pi-paths) — then through
 * every symlink in it, a dangling one included, so a link inside the workdir pointing out of
 * it does not open a way out, whether or not its target exists yet. A path it cannot resolve
 * is denied, and so is one in a path the agent withholds (`withheld`: where they are now, see
 * withheld-paths.ts), even inside the workdir, where the shell may have moved one.
 */
export function pathGuardRule(
  readRoots: readonly string[],
  withheld: () => readonly string[] = () => [],
): PolicyHook {
  return (request) => {
    if (request.hook !== "tool_call") return null;
    const spec = own(FILE_TOOLS, request.tool);
    if (!spec) return null;
    const raw = (request.input as { path?: unknown } | null)?.path;
    if (raw === undefined && spec.optional) return null;
    if (typeof raw !== "string") return null;
    let target: string;
    let workdir: string;
    try {
      target = realPath(openedPath(request.tool, raw, request.workdir));
      workdir = realPath(request.workdir);
    } catch (error) {
      return {
        effect: "deny",
        rule_id: "path_guard",
        reason: `${request.tool} of '${raw}' cannot be resolved: ${(error as Error).message}`,
      };
    }
    const now = withheld();
    // grep reads every file under its path: none may hold what is withheld.
    const kept =
      withheldAt(target, workdir, now) ??
      (request.tool === "grep" ? withheldWithin(target, now) : undefined);
    if (kept !== undefined) {
      return {
        effect: "deny",
        rule_id: "path_guard",
        reason: `${request.tool} of '${raw}' (${target}) reaches ${kept}, which the agent withholds from the model (its state, its home or a key file)`,
      };
    }
    if (inside(target, workdir)) {
      return { effect: "allow", rule_id: "path_guard", reason: `inside the workdir: ${target}` };
    }
    if (!spec.writes) {
      const root = readRoots.map(realPathOrNull).find((r) => r !== null && inside(target, r));
      if (root) {
        return {
          effect: "allow",
          rule_id: "path_guard",
          reason: `inside read-only root ${root}: ${target}`,
        };
      }
    }
    return {
      effect: "deny",
      rule_id: "path_guard",
      reason: `${request.tool} of '${raw}' (${target}) is outside the run's working directory ${workdir}${spec.writes ? "" : " and its read-only roots"}`,
    };
  };
}

/** The path a guarded call touches, for the decision's `subject`. */
export function pathSubject(tool: string, input: unknown, workdir: string): string | null {
  if (!own(FILE_TOOLS, tool)) return null;
  const raw = (input as { path?: unknown } | null)?.path;
  if (typeof raw !== "string") return workdir;
  try {
    return openedPath(tool, raw, workdir);
  } catch {
    return raw;
  }
}

/** The absolute path pi's `tool` opens for `raw` (before symlinks). */
function openedPath(tool: string, raw: string, workdir: string): string {
  return tool === "read" ? resolveReadPath(raw, workdir) : resolveToCwd(raw || ".", workdir);
}
