import type { PolicyDecision, PolicyHook } from "../../contract";
import { type ParsedShellCommand, parseShellCommand } from "./shell-parse";

export interface ShellRule {
  id: string;
  pattern: RegExp;
  reason: string;
}

/**
 * Programs that run the command after them, with their options (and an option's value) and
 * `NAME=value` assignments: `env -i X=1 bash`, `nice -n 10 sh`. A regular expression's source,
 * matching zero or more of them; an option's value never holds `=`, so each word has one reading
 * (no backtracking blow-up).
 */
const RUNS_NEXT = String.raw`((sudo|doas|env|command|exec|nohup|nice|stdbuf|busybox)(\s+-\S*(\s+[^-\s=][^\s=]*)?|\s+\w+=\S*)*\s+)*`;

/** Where a command starts in a line: its beginning, or after `;`, `&`, `|`, `(`, `{`, a backquote or a newline. */
const COMMAND_START = String.raw`(^|[;&|(\n{\x60]\s*)`;

/**
 * Commands refused on every lab host unless an app turns the built-ins off. This is a guard
 * against the obvious, not a sandbox: the shell's working directory is the run's workdir, and
 * apps that need more should allow-list commands instead. Each rule is tested against the raw
 * command line and against the canonical rewriting of each of its commands, pipelines and lists
 * (see `ParsedShellCommand.canonical`), so `/usr/bin/sudo`, `s\udo`, `rm -rf '/'` and `/.` are
 * seen as `sudo` and `rm -rf /`.
 */
export const BUILTIN_SHELL_DENY: readonly ShellRule[] = [
  {
    id: "privilege",
    pattern: /(^|[\s;&|(])(sudo|doas)\s|(^|[\s;&|(])su(\s+-|\s+root)?(\s|$)/,
    reason: "privilege escalation",
  },
  {
    id: "rm_root",
    // An rm at a command's start (so not `git rm`, `docker run --rm`), any of whose arguments
    // before a separator or comment is `/`, `~` or `$HOME`, with or without a trailing `/` or
    // `/*` (which the canonical rewriting quotes: `'~/*'`).
    pattern: new RegExp(
      String.raw`${COMMAND_START}${RUNS_NEXT}rm\s([^;&|
#]*\s)?'?(\/\*?|~\/?\*?|\$HOME\/?\*?|\$\{HOME\}\/?\*?)'?(\s|$|[;&|)])`,
    ),
    reason: "removing the root or home directory",
  },
  {
    id: "disk",
    pattern: /\b(mkfs(\.\w+)?|fdisk|sfdisk|parted|wipefs)\b|\bdd\b[^;&|]*\bof=\/dev\//,
    reason: "writing to disks or partitions",
  },
  {
    id: "power",
    pattern: /\b(shutdown|reboot|halt|poweroff)\b|\bsystemctl\s+(poweroff|reboot|halt|kexec)\b/,
    reason: "powering the host off or rebooting it",
  },
  { id: "fork_bomb", pattern: /:\(\)\s*\{\s*:\s*\|\s*:\s*&\s*\}\s*;\s*:/, reason: "a fork bomb" },
  {
    id: "pipe_to_shell",
    pattern: new RegExp(
      [
        // curl ... | sh, also through a program that runs the next (`| env bash`, `| sudo sh`)
        String.raw`\b(curl|wget)\b[^;&]*\|\s*${RUNS_NEXT}(ba|z|k|da|a)?sh\b`,
        // curl ... | python3 (an interpreter given no script: it runs what it reads)
        String.raw`\b(curl|wget)\b[^;&]*\|\s*${RUNS_NEXT}(python[\d.]*|perl|ruby|node|php)(\s+-\S*)*\s*($|[|;&)])`,
        // bash <(curl ...), sh -c "$(curl ...)", source <(wget ...), eval "$(curl ...)"
        /(^|[;&|({`]\s*)(sudo\s+)?((ba|z|k|da)?sh|source|\.|eval|python[\d.]*|perl|ruby|node|php)\s[^;&|]*[<$]\(\s*(sudo\s+)?(curl|wget)\b/
          .source,
      ].join("|"),
    ),
    reason: "running a downloaded script",
  },
  {
    id: "system_write",
    pattern:
      />>?\s*\/(etc|boot|usr|bin|sbin|lib|dev\/[sh]d)\b|\btee\s+(\S+\s+)*\/(etc|boot|usr|bin|sbin|lib|dev\/[sh]d)\b/,
    reason: "writing into system directories",
  },
  {
    id: "recursive_perms_root",
    pattern: /\bch(mod|own|grp)\s+(-\S+\s+)*-R\s+(\S+\s+)?\/(\s|$)/,
    reason: "changing permissions of the whole filesystem",
  },
];

export interface ShellGuardOptions {
  deny: readonly ShellRule[];
  /**
   * When set, allow-list mode: every command the line would run (see
   * `ParsedShellCommand.commands`) must match one of these, and a line the guard cannot parse
   * whole is refused.
   */
  allow: readonly RegExp[] | null;
}

export function shellGuardRule(options: ShellGuardOptions): PolicyHook {
  return async (request) => {
    if (request.hook !== "tool_call" || request.tool !== "bash") return null;
    const command = (request.input as { command?: unknown } | null)?.command;
    if (typeof command !== "string") return null;
    let parsed: ParsedShellCommand | null = null;
    let parseFailure: string | null = null;
    try {
      parsed = await parseShellCommand(command);
    } catch (error) {
      parseFailure = `the shell parser could not be loaded (${String(error)})`;
    }
    // Without a parse (only when the parser itself fails), deny rules still see the raw line.
    const subjects = [command, ...(parsed?.canonical ?? [])];
    const denied = options.deny.find((rule) =>
      subjects.some((subject) => {
        rule.pattern.lastIndex = 0;
        return rule.pattern.test(subject);
      }),
    );
    if (denied) {
      return {
        effect: "deny",
        rule_id: `shell_guard.${denied.id}`,
        reason: `command refused: ${denied.reason}`,
      };
    }
    if (options.allow) {
      const refusal = allowListRefusal(options.allow, parsed, parseFailure);
      if (refusal) return refusal;
    }
    return { effect: "allow", rule_id: "shell_guard", reason: "no shell rule objected" };
  };
}

/** Allow-list mode fails closed: a line it cannot read whole does not run. */
function allowListRefusal(
  allow: readonly RegExp[],
  parsed: ParsedShellCommand | null,
  parseFailure: string | null,
): PolicyDecision | null {
  const notAllowed = (reason: string): PolicyDecision => ({
    effect: "deny",
    rule_id: "shell_guard.not_allowed",
    reason,
  });
  if (!parsed)
    return notAllowed(`command refused in allow-list mode: ${parseFailure ?? "not parsed"}`);
  if (parsed.unsupported)
    return notAllowed(`command refused in allow-list mode: ${parsed.unsupported}`);
  if (parsed.commands.length === 0) return notAllowed("command refused: it runs no command");
  const outside = parsed.commands.find(
    (cmd) =>
      !allow.some((pattern) => {
        pattern.lastIndex = 0;
        return pattern.test(cmd);
      }),
  );
  if (outside !== undefined) {
    const shown = outside.length > 80 ? `${outside.slice(0, 80)}…` : outside;
    return notAllowed(
      parsed.commands.length === 1
        ? "command matches none of the app's allowed shell commands"
        : `command matches none of the app's allowed shell commands: ${JSON.stringify(shown)}`,
    );
  }
  return null;
}
