import { isAbsolute, relative, sep } from "node:path";

/**
 * A path as the CLI prints it: relative to the working directory when it lies under it (short,
 * and what the user typed), else absolute: `../../tmp/ah/lake` says less than `/tmp/ah/lake`.
 */
export function shownPath(path: string, cwd: string = process.cwd()): string {
  const rel = relative(cwd, path);
  if (rel === "") return ".";
  const outside = rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel);
  return outside ? path : rel;
}
