import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readGatewayConfigFile } from "../../../cli/commands/gateway";
import { describePlan, localModelPlan } from "../../../cli/local-stack/models";
import { PROJECT_ROOT } from "../../../cli/wrangler";

describe("the local stack's model plan", () => {
  it("runs the labelled scripted model when the environment names no provider", () => {
    const plan = localModelPlan("lab-notes", {});
    expect(plan).toEqual({ kind: "scripted", app: "lab-notes" });
    expect(describePlan(plan)).toContain("NOT a real model");
  });

  it("routes auto to every provider the environment names, in order, keys only by secret name", () => {
    const plan = localModelPlan("lab-notes", {
      OPENAI_API_KEY: "sk-openai-test-0123456789",
      ANTHROPIC_API_KEY: "sk-ant-test-0123456789",
      AURAISON_ANTHROPIC_MODEL: "claude-haiku-4-5",
      AURAISON_FALLBACK_BASE_URL: "http://127.0.0.1:11434/v1",
      AURAISON_FALLBACK_MODEL: "llama3.1:8b",
      AURAISON_FALLBACK_KEY: "lab-key-0123456789",
    });
    expect(plan.kind).toBe("gateway");
    if (plan.kind !== "gateway") return;
    expect(plan.config.aliases?.auto?.candidates).toEqual([
      "anthropic/claude-haiku-4-5",
      "openai/gpt-4.1",
      "lab/llama3.1:8b",
    ]);
    expect(plan.secrets).toEqual({
      ANTHROPIC_API_KEY: "sk-ant-test-0123456789",
      OPENAI_API_KEY: "sk-openai-test-0123456789",
      LAB_FALLBACK_KEY: "lab-key-0123456789",
    });
    // Each key is offered to the local tenant for its own provider's host only.
    expect(plan.offers).toEqual({
      ANTHROPIC_API_KEY: { hosts: ["api.anthropic.com"] },
      OPENAI_API_KEY: { hosts: ["api.openai.com"] },
      LAB_FALLBACK_KEY: { hosts: ["127.0.0.1"] },
    });
    expect(JSON.stringify(plan.config)).not.toContain("sk-");
    expect(JSON.stringify(plan.config)).not.toContain("lab-key");
  });

  it("with a gateway config file, hands central the secrets the file names that the environment has", () => {
    const file = join(PROJECT_ROOT, "examples", "gateway.json");
    const plan = localModelPlan(
      "lab-notes",
      { OPENAI_API_KEY: "sk-openai-test-0123456789", UNRELATED: "x" },
      { file, config: readGatewayConfigFile(file, {}) },
    );
    expect(plan).toMatchObject({
      kind: "gateway",
      file,
      secrets: { OPENAI_API_KEY: "sk-openai-test-0123456789" },
      offers: { OPENAI_API_KEY: { hosts: ["api.openai.com"] } },
    });
    if (plan.kind === "gateway") expect(Object.keys(plan.secrets)).toEqual(["OPENAI_API_KEY"]);
    expect(describePlan(plan)).toContain(`configured from ${file}`);
  });
});
