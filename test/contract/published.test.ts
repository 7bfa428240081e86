import { readdirSync, readFileSync } from "node:fs";
import { type JsonObject, validateToolArguments } from "@earendil-works/pi-ai";
import { describe, expect, it } from "vitest";
import {
  CONTRACT_VERSION,
  IntentRequest,
  isCompatibleContract,
  jsonSchemaOf,
  openApiComponents,
  PUBLISHED_SCHEMAS,
  type PublishedSchemaName,
  toTypeBox,
} from "../../contract";

const schemaDir = new URL("../../contract/schema/", import.meta.url);

describe("contract/schema files", () => {
  it("exist for every published schema and match the definitions (run `npm run schemas` if not)", () => {
    const files = readdirSync(schemaDir)
      .filter((f) => f.endsWith(".json"))
      .sort();
    expect(files).toEqual(
      Object.keys(PUBLISHED_SCHEMAS)
        .map((n) => `${n}.json`)
        .sort(),
    );
    for (const name of Object.keys(PUBLISHED_SCHEMAS) as PublishedSchemaName[]) {
      const onDisk = JSON.parse(readFileSync(new URL(`${name}.json`, schemaDir), "utf8"));
      expect(onDisk, name).toEqual(jsonSchemaOf(name));
    }
  });

  it("carry the contract version in their $id", () => {
    expect(jsonSchemaOf("Intent").$id).toBe(
      `https://auraison.dev/schema/v${CONTRACT_VERSION}/Intent.json`,
    );
  });
});

describe("OpenAPI components", () => {
  const components = openApiComponents();

  it("include every published schema", () => {
    for (const name of Object.keys(PUBLISHED_SCHEMAS)) expect(components[name], name).toBeDefined();
  });

  it("only reference components that exist", () => {
    const refs = JSON.stringify(components).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      const target = ref.slice(8, -1);
      expect(target.startsWith("#/components/schemas/"), target).toBe(true);
      expect(components[target.slice("#/components/schemas/".length)], target).toBeDefined();
    }
  });
});

describe("TypeBox conversion for pi tools", () => {
  const tool = {
    name: "submit",
    description: "submit an intent",
    parameters: toTypeBox(IntentRequest),
  };
  const call = (args: unknown) => ({
    type: "toolCall" as const,
    id: "c1",
    name: "submit",
    arguments: args as JsonObject,
  });

  it("pi accepts arguments the contract accepts", () => {
    expect(validateToolArguments(tool, call({ targets: [{ app: "lab-notes" }] }))).toEqual({
      targets: [{ app: "lab-notes" }],
    });
  });

  it("pi refuses arguments the contract refuses, naming the field", () => {
    expect(() => validateToolArguments(tool, call({ targets: [] }))).toThrow(/targets/);
    expect(() =>
      validateToolArguments(
        tool,
        call({ targets: [{ app: "lab-notes" }], budget: { max_tokens: -1 } }),
      ),
    ).toThrow(/max_tokens/);
  });
});

describe("contract version", () => {
  it("is compatible within a major version only", () => {
    expect(isCompatibleContract(CONTRACT_VERSION)).toBe(true);
    expect(isCompatibleContract("1.9.0", "1.0.0")).toBe(true);
    expect(isCompatibleContract("2.0.0", "1.0.0")).toBe(false);
    expect(isCompatibleContract("garbage", "1.0.0")).toBe(false);
  });
});
