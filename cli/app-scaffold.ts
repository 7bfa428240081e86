/**
 * The files `auraison app init` writes: a working app folder with one skill (a script the
 * model runs), an app.json with a policy, and a scripted-model.json so the app runs end to end
 * before any model provider is set. Paths are relative to the app folder.
 */
export function appScaffold(app: string): Record<string, { text: string; mode?: number }> {
  return {
    "app.json": {
      text: `${JSON.stringify(
        {
          app,
          description: `The ${app} app: describe what its agents do for the lab.`,
          capabilities: [],
          max_concurrency: 1,
          instructions:
            "You work in this agent's working directory. Use the skills' scripts where they fit; say what you ran and what you found.",
          policy: {
            allowed_tools: ["read", "write", "edit", "ls", "grep", "find", "bash"],
            budget: { max_tokens: 200000, max_wall_ms: 600000, max_tool_calls: 50, max_turns: 30 },
            max_bash_timeout_s: 60,
          },
        },
        null,
        2,
      )}\n`,
    },
    "skills/inventory/SKILL.md": {
      text: `---
name: inventory
description: List what is in the working directory (files, sizes, line counts) before deciding what to read.
allowed-tools: bash read
metadata:
  version: 0.1.0
---

# Inventory of the working directory

Run this skill's script from the working directory:

\`\`\`sh
bash <this skill's folder>/scripts/inventory.sh .
\`\`\`

It prints one line per file (path, bytes, lines) and a total. Read the files that matter for
the task; do not guess at their contents.
`,
    },
    "skills/inventory/scripts/inventory.sh": {
      mode: 0o755,
      text: `#!/usr/bin/env bash
# One line per file under a directory (path, bytes, lines), then a total.
set -euo pipefail
dir=\${1:-.}
[ -d "$dir" ] || { echo "no such directory: $dir" >&2; exit 2; }
count=0
while IFS= read -r -d '' file; do
  printf '%s\\t%s bytes\\t%s lines\\n' "\${file#"$dir"/}" "$(wc -c < "$file")" "$(wc -l < "$file")"
  count=$((count + 1))
done < <(find "$dir" -type f -not -path '*/.*' -print0 | sort -z)
echo "== $count file(s) in $dir"
`,
    },
    "scripted-model.json": {
      text: `${JSON.stringify(
        {
          description: `Offline demo of the ${app} app: runs the inventory skill's script and reports. A fixed scenario, not a model: it does the same whatever the task says.`,
          steps: [
            {
              say: "[scripted demo] Taking an inventory of the working directory first.",
              tools: [
                {
                  tool: "bash",
                  args: {
                    command: "bash {{skills}}/inventory/scripts/inventory.sh .",
                    timeout: 30,
                  },
                },
              ],
            },
            {
              answer: `[scripted demo] Ran the inventory skill in the working directory. This answer comes from the ${app} app's scripted-model.json, not from a model; set ANTHROPIC_API_KEY, OPENAI_API_KEY or AURAISON_FALLBACK_BASE_URL for real runs. (Task received: {{prompt}})`,
            },
          ],
        },
        null,
        2,
      )}\n`,
    },
  };
}
