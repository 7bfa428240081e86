import { realpathSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { own, type PolicyHook } from "../../contract";

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
 * read-only roots (its skills, which the model reads SKILL.md and scripts from). Paths are
 * resolved the way pi's tools resolve them (`@` prefix, `~`), then through symlinks, so a link
 * inside the workdir pointing out of it does not open a way out.
 */
export function pathGuardRule(readRoots: readonly string[]): PolicyHook {
  return (request) => {
    if (request.hook !== "tool_call") return null;
    const spec = own(FILE_TOOLS, request.tool);
    if (!spec) return null;
    const raw = (request.input as { path?: unknown } | null)?.path;
    if (raw === undefined && spec.optional) return null;
    if (typeof raw !== "string") return null;
    const target = canonical(resolveLikePi(raw, request.workdir));
    const workdir = canonical(request.workdir);
    if (inside(target, workdir)) {
      return { effect: "allow", rule_id: "path_guard", reason: `inside the workdir: ${target}` };
    }
    if (!spec.writes) {
      const root = readRoots.map(canonical).find((r) => inside(target, r));
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
  return typeof raw === "string" ? resolveLikePi(raw, workdir) : workdir;
}

function resolveLikePi(path: string, workdir: string): string {
  let p = path.replace(/[\u00A0\u2000-\u200A\u202F\u205F\u3000]/g, " ");
  if (p.startsWith("@")) p = p.slice(1);
  if (p === "~") p = homedir();
  else if (p.startsWith("~/")) p = homedir() + p.slice(1);
  return isAbsolute(p) ? resolve(p) : resolve(workdir, p);
}

/** Resolves symlinks of the deepest part of the path that exists. */
function canonical(path: string): string {
  let existing = path;
  const rest: string[] = [];
  for (;;) {
    try {
      return resolve(realpathSync(existing), ...rest);
    } catch {
      const parent = dirname(existing);
      if (parent === existing) return path;
      rest.unshift(existing.slice(parent.length + (parent.endsWith(sep) ? 0 : 1)));
      existing = parent;
    }
  }
}

function inside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}
