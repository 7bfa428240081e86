import { lstatSync, readlinkSync } from "node:fs";
import { dirname, isAbsolute, join, parse, relative, resolve, sep } from "node:path";
import { own, type PolicyHook } from "../../contract";
import { resolveReadPath, resolveToCwd } from "./pi-paths";

/** Built-in tools that take a path, and whether they may change what is there. */
const FILE_TOOLS: Record<string, { writes: boolean; optional: boolean }> = {
  read: { writes: false, optional: false },
  write: { writes: true, optional: false },
  edit: { writes: true, optional: false },
  ls: { writes: false, optional: true },
  grep: { writes: false, optional: true },
  find: { writes: false, optional: true },
};

/** The most symlinks followed in one path, as Linux's ELOOP limit. */
const MAX_SYMLINKS = 40;

/**
 * Keeps file tools inside the run's working directory. Reads may also reach the app's
 * read-only roots (its skills, which the model reads SKILL.md and scripts from). The guard
 * judges the path pi's tool will open — resolved as pi resolves it (`@` prefix, `~`, `file://`
 * URLs, and for read the filename variants it falls back to; see ./pi-paths) — then through
 * every symlink in it, a dangling one included, so a link inside the workdir pointing out of
 * it does not open a way out, whether or not its target exists yet. A path it cannot resolve
 * is denied.
 */
export function pathGuardRule(readRoots: readonly string[]): PolicyHook {
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

/**
 * The real path `path` leads to: every symlink in it is followed, the last component's too,
 * and a link's target is followed whether or not it exists (a dangling link is where a write
 * would create its target). Components that do not exist are kept as they are. Throws when
 * that cannot be told: a link loop, an unreadable directory or link.
 */
export function realPath(path: string): string {
  const absolute = resolve(path);
  let current = parse(absolute).root;
  const pending = components(absolute.slice(current.length));
  let links = 0;
  for (let part = pending.shift(); part !== undefined; part = pending.shift()) {
    if (part === "." || part === "") continue;
    if (part === "..") {
      current = dirname(current);
      continue;
    }
    const next = join(current, part);
    let isLink: boolean;
    try {
      isLink = lstatSync(next).isSymbolicLink();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw error;
      isLink = false;
    }
    if (!isLink) {
      current = next;
      continue;
    }
    if (++links > MAX_SYMLINKS) throw new Error(`too many levels of symbolic links at ${next}`);
    const target = readlinkSync(next);
    if (isAbsolute(target)) current = parse(target).root;
    pending.unshift(
      ...components(target.slice(isAbsolute(target) ? parse(target).root.length : 0)),
    );
  }
  return current;
}

function realPathOrNull(path: string): string | null {
  try {
    return realPath(path);
  } catch {
    return null;
  }
}

function components(path: string): string[] {
  return path.split(sep === "\\" ? /[\\/]/ : "/");
}

function inside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}
