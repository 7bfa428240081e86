import { lstatSync, readlinkSync } from "node:fs";
import { dirname, isAbsolute, join, parse, relative, resolve, sep } from "node:path";

/** The most symlinks followed in one path, as Linux's ELOOP limit. */
const MAX_SYMLINKS = 40;

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

export function realPathOrNull(path: string): string | null {
  try {
    return realPath(path);
  } catch {
    return null;
  }
}

/**
 * The path with every symlink in it resolved, a dangling one too (the path guard's rule), or
 * made absolute when that fails (a link loop).
 */
export function realOrResolved(path: string): string {
  try {
    return realPath(path);
  } catch {
    return resolve(path);
  }
}

function components(path: string): string[] {
  return path.split(sep === "\\" ? /[\\/]/ : "/");
}

/** Whether `path` is `root` or inside it (both resolved). */
export function inside(path: string, root: string): boolean {
  const rel = relative(root, path);
  // `..x` is a name inside root; only `..` itself or a path through it leaves.
  return rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}
