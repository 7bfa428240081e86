import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ExtensionAPI } from "@earendil-works/pi-coding-agent";
import { afterEach, describe, expect, it } from "vitest";
import type { EdgeRuntime } from "../../../edge/runtime";
import { loadAppSkills, SkillFolderError } from "../../../edge/skills/app-skills";
import { makeApp, openRuntime, runTask } from "../helpers/runtime";

let runtime: EdgeRuntime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

const skill = (name: string, extra = "") => `---
name: ${name}
description: Summarises the day's lab notes. Use when asked for a summary of notes.
${extra}---
# ${name}
Run \`./scripts/summarise.sh notes/\`.
`;

describe("app skills", () => {
  it("describes each skill folder as a contract Skill", () => {
    const app = makeApp({
      skills: {
        "notes-summary": skill(
          "notes-summary",
          "allowed-tools: read bash\nmetadata:\n  version: 2.1.0\n",
        ),
        "plain-skill": skill("plain-skill"),
      },
    });
    expect(loadAppSkills(`${app.dir}/skills`, "lab-notes")).toEqual([
      {
        name: "notes-summary",
        description: "Summarises the day's lab notes. Use when asked for a summary of notes.",
        app: "lab-notes",
        tools: ["read", "bash"],
        version: "2.1.0",
      },
      expect.objectContaining({ name: "plain-skill", tools: [], version: "0.0.0" }),
    ]);
  });

  it("refuses skills central could not route on, naming the skill and the rule", () => {
    const misnamed = makeApp({ skills: { "notes-summary": skill("Notes_Summary") } });
    expect(() => loadAppSkills(`${misnamed.dir}/skills`, "lab-notes")).toThrow(SkillFolderError);
    const badVersion = makeApp({
      skills: { "x-skill": skill("x-skill", "metadata:\n  version: latest\n") },
    });
    expect(() => loadAppSkills(`${badVersion.dir}/skills`, "lab-notes")).toThrow(
      /semantic version/,
    );
  });

  it("reads a skill's PDDL actions from domain.pddl, refusing bad PDDL with the file and line", () => {
    const app = makeApp({
      skills: { "arm-move": skill("arm-move"), "bad-pddl": skill("bad-pddl") },
    });
    const domain = `(define (domain arm)
  (:requirements :strips :typing)
  (:types block)
  (:predicates (clear ?b - block))
  (:action touch :parameters (?b - block) :precondition (clear ?b) :effect (not (clear ?b))))
`;
    writeFileSync(join(app.dir, "skills", "arm-move", "domain.pddl"), domain);
    writeFileSync(
      join(app.dir, "skills", "bad-pddl", "domain.pddl"),
      "(define (domain arm)\n  (:requirements :adl))",
    );
    expect(() => loadAppSkills(`${app.dir}/skills`, "lab-notes")).toThrow(
      /bad-pddl\/domain\.pddl: PDDL domain: line 2, column 18: unsupported requirement :adl/,
    );
    writeFileSync(join(app.dir, "skills", "bad-pddl", "domain.pddl"), domain);
    const skills = loadAppSkills(`${app.dir}/skills`, "lab-notes");
    expect(skills.map((s) => s.pddl)).toEqual([domain, domain]);
  });

  it("reads the params a skill's intents take from params.schema.json, refusing one that is no schema", () => {
    const app = makeApp({ skills: { "trace-req": skill("trace-req"), odd: skill("odd") } });
    const schema = {
      type: "object",
      properties: { requirement: { type: "string", pattern: "^REQ-\\d+$" } },
      required: ["requirement"],
      additionalProperties: false,
    };
    writeFileSync(
      join(app.dir, "skills", "trace-req", "params.schema.json"),
      JSON.stringify(schema),
    );
    writeFileSync(join(app.dir, "skills", "odd", "params.schema.json"), "[1, 2]");
    expect(() => loadAppSkills(`${app.dir}/skills`, "lab-notes")).toThrow(
      /odd\/params\.schema\.json: a JSON Schema object is expected/,
    );
    writeFileSync(join(app.dir, "skills", "odd", "params.schema.json"), "{ not json");
    expect(() => loadAppSkills(`${app.dir}/skills`, "lab-notes")).toThrow(
      /odd\/params\.schema\.json: not JSON/,
    );
    writeFileSync(join(app.dir, "skills", "odd", "params.schema.json"), "{}");
    const skills = loadAppSkills(`${app.dir}/skills`, "lab-notes");
    expect(skills.map((s) => [s.name, s.params])).toEqual([
      ["odd", {}],
      ["trace-req", schema],
    ]);
  });

  it("loads the app's skills into every run's pi session", async () => {
    const app = makeApp({ skills: { "notes-summary": skill("notes-summary") } });
    let prompt = "";
    const capture = (pi: ExtensionAPI) => {
      pi.on("before_agent_start", (event) => {
        prompt = event.systemPrompt;
      });
    };
    runtime = await openRuntime(app, [{ text: "ok" }], {}, [capture]);
    expect(runtime.skills.map((s) => s.name)).toEqual(["notes-summary"]);
    await runTask(runtime, "summarise");
    expect(prompt).toContain("notes-summary");
    expect(prompt).toContain("lab notes. Use when asked");
    expect(prompt).toContain(`working directory is ${app.workdir}`);
  });
});
