import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import { minimalEnv } from "../child-env";
import { inside, realOrResolved } from "../policy/real-path";
import type { WithheldPaths } from "../withheld-paths";

/**
 * How the model's shell is confined (`edge start --shell-sandbox`):
 * - `auto`: in bubblewrap when it runs on this host, else as the agent's user with a warning;
 * - `bwrap`: in bubblewrap, and the agent does not start without it;
 * - `off`: as the agent's user, seeing what that user sees.
 */
export const SHELL_SANDBOX_MODES = ["auto", "bwrap", "off"] as const;
export type ShellSandboxMode = (typeof SHELL_SANDBOX_MODES)[number];

/** The shell's confinement, once checked on this host. */
export type ShellSandbox =
  | { kind: "bwrap"; bwrap: string; workdir: string; withheld: WithheldPaths }
  | { kind: "none"; why: string };

export class ShellSandboxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ShellSandboxError";
  }
}

/**
 * Why a sandbox: the model's shell runs as the agent's user, and the user's own processes and
 * files are open to it. The agent's key read from the environment stays in
 * /proc/<agent>/environ after the agent deleted it (the kernel keeps the environment the
 * process started with), and the key files, the outbox, the agent's control socket and the
 * local stack's admin key (`<home>/local.json`) are the user's files. bubblewrap gives the
 * shell its own PID namespace with its own /proc (the agent's processes are not in it), no
 * capabilities (an agent run as root would otherwise keep them, and unmount what hides), and
 * an empty directory over every withheld path (/dev/null over a withheld file); the rest of
 * the host (tools, devices such as GPUs, the network) stays as it is, and the workdir is
 * writable. Pinned by test/edge/session/shell-sandbox.test.ts.
 *
 * Checked once here, by running `true` in the layout a command gets.
 */
export function prepareShellSandbox(
  mode: ShellSandboxMode,
  paths: { workdir: string; withheld: WithheldPaths },
  env: NodeJS.ProcessEnv = process.env,
): ShellSandbox {
  if (mode === "off") return { kind: "none", why: "--shell-sandbox off" };
  const bwrap = onPath("bwrap", env.PATH ?? "");
  let why: string;
  if (process.platform !== "linux") why = `bubblewrap needs Linux (this is ${process.platform})`;
  else if (!bwrap) why = "bwrap is not on PATH (install bubblewrap)";
  else {
    const sandbox = { kind: "bwrap" as const, bwrap, ...paths };
    const probe = spawnSync(bwrap, [...bwrapArgs(sandbox), "--", "true"], {
      env: minimalEnv(env),
      timeout: 10_000,
      encoding: "utf8",
    });
    if (probe.status === 0) return sandbox;
    why = `bwrap did not run here: ${(probe.stderr || probe.error?.message || `exit ${probe.status}`).trim()}`;
  }
  if (mode === "bwrap") throw new ShellSandboxError(`--shell-sandbox bwrap: ${why}`);
  return { kind: "none", why };
}

/** The variable that carries the model's command past the wrapper, unquoted. */
const COMMAND_VAR = "AURAISON_SHELL_COMMAND";

/**
 * What pi's bash runs instead of `context`: the wrapper closes every descriptor but the three
 * standard ones (one the agent inherited open, a key file's among them, would pass on to the
 * shell), then becomes bubblewrap (`exec`: pi's timeout and abort, which kill the shell's
 * process group, reach the sandbox and what runs in it), which runs the model's command with
 * bash. The command travels in an environment variable that bubblewrap removes, so it is not
 * quoted again (quoting would make a long command too long for exec).
 */
export function sandboxed<C extends { command: string; env: NodeJS.ProcessEnv }>(
  sandbox: ShellSandbox,
  context: C,
): C {
  if (sandbox.kind === "none") return context;
  const wrapper = [
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's parameter expansion
    'for f in /proc/$$/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && exec {n}>&-; done',
    [
      "exec",
      ...[sandbox.bwrap, ...bwrapArgs(sandbox), "--unsetenv", COMMAND_VAR, "--", "bash", "-c"].map(
        quoted,
      ),
      `"$${COMMAND_VAR}"`,
    ].join(" "),
  ].join("\n");
  return { ...context, command: wrapper, env: { ...context.env, [COMMAND_VAR]: context.command } };
}

/**
 * bubblewrap's arguments, from the withheld paths as they are now (one made after the agent
 * started is hidden from the next command on; one moved is hidden where it went; one deleted
 * is not made again as a mount point). Mounts apply in order: the paths that hold the workdir
 * first, then the workdir bound again (the default workdir, `<state>/work`, is inside the
 * withheld state), then the rest, a path now inside the workdir included. The shell starts in
 * the workdir, or not at all (bubblewrap would fall back to $HOME).
 */
function bwrapArgs(sandbox: { workdir: string; withheld: WithheldPaths }): string[] {
  const work = realOrResolved(sandbox.workdir);
  // Outer paths first: a path inside one hidden before is made in its empty mount, not on
  // the host.
  const present = sandbox.withheld.current().sort((a, b) => a.path.length - b.path.length);
  const holdsWork = present.filter((p) => inside(work, p.path));
  const hide = (p: { path: string; dir: boolean }) =>
    p.dir ? ["--tmpfs", p.path] : ["--ro-bind", "/dev/null", p.path];
  return [
    "--die-with-parent",
    "--unshare-pid",
    "--cap-drop",
    "ALL",
    "--dev-bind",
    "/",
    "/",
    "--proc",
    "/proc",
    ...holdsWork.flatMap(hide),
    ...(holdsWork.length > 0 ? ["--bind", work, work] : []),
    ...present.filter((p) => !holdsWork.includes(p)).flatMap(hide),
    "--chdir",
    work,
  ];
}

function onPath(name: string, path: string): string | null {
  for (const dir of path.split(delimiter).filter(isAbsolute)) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // Not here: the next directory.
    }
  }
  return null;
}

function quoted(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
