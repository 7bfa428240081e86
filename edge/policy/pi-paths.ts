import { accessSync, constants } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/*
 * How pi's built-in file tools turn a `path` argument into the file they open, copied from
 * @earendil-works/pi-coding-agent 1.6.0: dist/utils/paths.js (normalizePath, resolvePath,
 * normalizeWindowsShellPath) and dist/core/tools/path-utils.js (resolveToCwd, resolveReadPath).
 * read uses resolveReadPathAsync (the same steps as resolveReadPath, awaited); write and edit
 * use resolveToCwd(path); ls, grep and find use resolveToCwd(path || ".").
 *
 * They are copied, not imported, because the package exports only its root entry
 * ("exports": {".": …}) and that entry does not export them; reaching into dist/ past the
 * exports map would break on any repackaging. test/edge/policy/path-guard.test.ts compares
 * these copies with pi's own functions (imported from dist/ by file path, which a test may do),
 * so an upgrade of pi that changes them fails there.
 */

const UNICODE_SPACES = /[\u00A0\u2000-\u200A\u202F\u205F\u3000]/g;
const NARROW_NO_BREAK_SPACE = "\u202F";

/** pi's resolveToCwd: the absolute path write, edit, ls, grep and find open. May throw (a bad `file:` URL). */
export function resolveToCwd(filePath: string, cwd: string): string {
  const normalized = normalizePath(filePath, true);
  const base = normalizePath(cwd, false);
  return isAbsolute(normalized) ? resolve(normalized) : resolve(base, normalized);
}

/**
 * pi's resolveReadPath: the path read opens. When the path as given does not exist, read
 * tries variants of the whole absolute path (macOS screenshot names: narrow no-break space
 * before AM/PM, NFD, curly apostrophe, NFD + curly) and opens the first that exists.
 */
export function resolveReadPath(filePath: string, cwd: string): string {
  const resolved = resolveToCwd(filePath, cwd);
  if (exists(resolved)) return resolved;
  const amPm = resolved.replace(/ (AM|PM)\./gi, `${NARROW_NO_BREAK_SPACE}$1.`);
  if (amPm !== resolved && exists(amPm)) return amPm;
  const nfd = resolved.normalize("NFD");
  if (nfd !== resolved && exists(nfd)) return nfd;
  const curly = resolved.replace(/'/g, "\u2019");
  if (curly !== resolved && exists(curly)) return curly;
  const nfdCurly = nfd.replace(/'/g, "\u2019");
  if (nfdCurly !== resolved && exists(nfdCurly)) return nfdCurly;
  return resolved;
}

/** pi's fileExists / pathExists: access(F_OK), which follows symlinks (a dangling one does not exist). */
function exists(path: string): boolean {
  try {
    accessSync(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * pi's normalizePath with the options resolveToCwd passes ({normalizeUnicodeSpaces,
 * stripAtPrefix}) when `asToolArgument`, and with none (as resolvePath does to its base dir)
 * otherwise. No trim; `~` is expanded; a `file://` URL becomes the path it names.
 */
function normalizePath(input: string, asToolArgument: boolean): string {
  let normalized = input;
  if (asToolArgument) {
    normalized = normalized.replace(UNICODE_SPACES, " ");
    if (normalized.startsWith("@")) normalized = normalized.slice(1);
  }
  if (process.platform === "win32") normalized = normalizeWindowsShellPath(normalized);
  const home = homedir();
  if (normalized === "~") return home;
  if (
    normalized.startsWith("~/") ||
    (process.platform === "win32" && normalized.startsWith("~\\"))
  ) {
    return join(home, normalized.slice(2));
  }
  if (/^file:\/\//.test(normalized)) return fileURLToPath(normalized);
  return normalized;
}

function normalizeWindowsShellPath(filePath: string): string {
  if (!filePath.startsWith("/") || filePath.startsWith("//") || filePath.includes("\\"))
    return filePath;
  const match = filePath.match(/^\/(?:mnt\/|cygdrive\/)?([a-z])(?:\/(.*))?$/i);
  if (!match) return filePath;
  const suffix = match[2]?.replaceAll("/", "\\");
  return `${match[1]?.toUpperCase()}:\\${suffix ?? ""}`;
}
