import type { PolicyHook } from "../../contract";

export interface ShellRule {
  id: string;
  pattern: RegExp;
  reason: string;
}

/**
 * Commands refused on every lab host unless an app turns the built-ins off. This is a guard
 * against the obvious, not a sandbox: the shell's working directory is the run's workdir, and
 * apps that need more should allow-list commands instead.
 */
export const BUILTIN_SHELL_DENY: readonly ShellRule[] = [
  {
    id: "privilege",
    pattern: /(^|[\s;&|(])(sudo|doas)\s|(^|[\s;&|(])su(\s+-|\s+root)?(\s|$)/,
    reason: "privilege escalation",
  },
  {
    id: "rm_root",
    pattern: /\brm\s+(-\S+\s+)*(\/|\/\*|~|~\/|\$HOME|\$\{HOME\})(\s|$|;|&)/,
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
    pattern: /\b(curl|wget)\b[^;&]*\|\s*(sudo\s+)?(ba|z|k|da)?sh\b/,
    reason: "running a downloaded script",
  },
  {
    id: "system_write",
    pattern: />>?\s*\/(etc|boot|usr|bin|sbin|lib|dev\/[sh]d)\b/,
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
  /** When set, a command must match one of these to run (allow-list mode). */
  allow: readonly RegExp[] | null;
}

export function shellGuardRule(options: ShellGuardOptions): PolicyHook {
  return (request) => {
    if (request.hook !== "tool_call" || request.tool !== "bash") return null;
    const command = (request.input as { command?: unknown } | null)?.command;
    if (typeof command !== "string") return null;
    const denied = options.deny.find((rule) => rule.pattern.test(command));
    if (denied) {
      return {
        effect: "deny",
        rule_id: `shell_guard.${denied.id}`,
        reason: `command refused: ${denied.reason}`,
      };
    }
    if (options.allow && !options.allow.some((pattern) => pattern.test(command))) {
      return {
        effect: "deny",
        rule_id: "shell_guard.not_allowed",
        reason: "command matches none of the app's allowed shell commands",
      };
    }
    return { effect: "allow", rule_id: "shell_guard", reason: "no shell rule objected" };
  };
}
