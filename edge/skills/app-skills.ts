import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { loadSkillsFromDir, parseFrontmatter } from "@earendil-works/pi-coding-agent";
import { z } from "zod";
import { check, Skill, ToolName } from "../../contract";

const DEFAULT_VERSION = "0.0.0";
/** A skill's PDDL action declarations, beside its SKILL.md. */
const PDDL_FILE = "domain.pddl";
/** The JSON Schema of the params an intent for the skill takes, beside its SKILL.md. */
const PARAMS_FILE = "params.schema.json";

export class SkillFolderError extends Error {
  constructor(
    readonly dir: string,
    readonly problems: string[],
  ) {
    super(`skills in ${dir} are not valid:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "SkillFolderError";
  }
}

/**
 * Reads an app's skills the way pi does (a folder per skill with SKILL.md) and describes each
 * as a contract Skill for registration with central. pi is lenient about the Agent Skills
 * naming rules; central routes on these names, so here a violation stops the agent with the
 * skill and the rule, rather than registering something central would refuse.
 *
 * From the frontmatter: `name`, `description`, `metadata.version` (semver, default 0.0.0) and
 * `allowed-tools` (space-separated tool names the skill uses). A `domain.pddl` beside SKILL.md
 * declares the PDDL actions the skill performs, for central's planner; a `params.schema.json`
 * the params its intents take (a JSON Schema planners are shown and plans are checked against).
 */
export function loadAppSkills(dir: string, app: string): Skill[] {
  const { skills, diagnostics } = loadSkillsFromDir({ dir, source: "app" });
  const problems = diagnostics
    .filter((d) => d.type === "error" || d.type === "warning")
    .map((d) => `${d.path ? `${relative(dir, d.path)}: ` : ""}${d.message}`);
  const result: Skill[] = [];
  for (const skill of skills) {
    const { frontmatter } = parseFrontmatter<Record<string, unknown>>(
      readFileSync(skill.filePath, "utf8"),
    );
    const metadata = (frontmatter.metadata ?? {}) as Record<string, unknown>;
    const tools = String(frontmatter["allowed-tools"] ?? "")
      .split(/\s+/)
      .filter(Boolean);
    const badTools = tools.filter((t) => !check(ToolName, t).ok);
    if (badTools.length > 0)
      problems.push(`${skill.name}: allowed-tools has invalid names: ${badTools.join(", ")}`);
    const pddlFile = join(dirname(skill.filePath), PDDL_FILE);
    const pddl = existsSync(pddlFile) ? readFileSync(pddlFile, "utf8") : undefined;
    const paramsFile = join(dirname(skill.filePath), PARAMS_FILE);
    const params = existsSync(paramsFile) ? readParamsSchema(paramsFile) : undefined;
    if (typeof params === "string") problems.push(`${relative(dir, paramsFile)}: ${params}`);
    const parsed = check(Skill, {
      name: skill.name,
      description: skill.description,
      app,
      tools: tools.filter((t) => !badTools.includes(t)),
      version: metadata.version === undefined ? DEFAULT_VERSION : String(metadata.version),
      ...(pddl === undefined ? {} : { pddl }),
      ...(params === undefined || typeof params === "string" ? {} : { params }),
    });
    if (parsed.ok) result.push(parsed.value);
    else
      problems.push(
        ...parsed.issues.map((i) =>
          i.path === "pddl"
            ? `${relative(dir, pddlFile)}: ${i.message}`
            : `${relative(dir, skill.filePath)}: ${i.path}: ${i.message}`,
        ),
      );
  }
  if (problems.length > 0) throw new SkillFolderError(dir, [...new Set(problems)]);
  return result.sort((a, b) => a.name.localeCompare(b.name));
}

/** The schema, or what is wrong with it: it must be a JSON Schema object zod can check with. */
function readParamsSchema(file: string): Record<string, unknown> | string {
  let schema: unknown;
  try {
    schema = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    return `not JSON: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (!schema || typeof schema !== "object" || Array.isArray(schema))
    return "a JSON Schema object is expected";
  try {
    z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
  } catch (error) {
    return `not a JSON Schema planners can check params with: ${error instanceof Error ? error.message : String(error)}`;
  }
  return schema as Record<string, unknown>;
}
