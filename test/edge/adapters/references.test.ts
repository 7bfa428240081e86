// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the declarations' own ${NAME} syntax
import { describe, expect, it } from "vitest";
import { ContractValidationError } from "../../../contract";
import type { AdapterFactory } from "../../../edge/adapters/adapter";
import { httpJsonAdapter } from "../../../edge/adapters/http-json/adapter";
import { checkReferences, resolveReferences, resolveUrl } from "../../../edge/adapters/references";
import { rosbridgeAdapter } from "../../../edge/adapters/rosbridge/adapter";
import { zenohAdapter } from "../../../edge/adapters/zenoh/adapter";
import { declarationIssues } from "./helpers";

describe("${NAME} references in adapter declarations", () => {
  const resolve = (value: string, env: NodeJS.ProcessEnv) =>
    resolveReferences(value, env, "arm.json", "url");

  it("take values from the environment, or the default after :- when the name is unset", () => {
    expect(resolve("ws://${ROS_HOST}:9090", { ROS_HOST: "10.0.0.7" })).toBe("ws://10.0.0.7:9090");
    expect(resolve("${ROS_URL:-ws://127.0.0.1:9090}", {})).toBe("ws://127.0.0.1:9090");
    expect(resolve("${ROS_URL:-ws://127.0.0.1:9090}", { ROS_URL: "ws://robot:9090" })).toBe(
      "ws://robot:9090",
    );
    expect(resolve("${EMPTY:-}x", {})).toBe("x");
  });

  it("take the default after :- when the name is set but empty, as the shell does", () => {
    // A systemd `Environment=ROBOT_ROSBRIDGE=` or an env file's `ROBOT_ROSBRIDGE=` line.
    expect(resolve("ws://${ROBOT_ROSBRIDGE:-127.0.0.1:9090}", { ROBOT_ROSBRIDGE: "" })).toBe(
      "ws://127.0.0.1:9090",
    );
    // Without a default, empty is a value like any other.
    expect(resolve("a${EMPTY}b", { EMPTY: "" })).toBe("ab");
  });

  it("stop the agent naming the file, field and variable when a name without default is unset", () => {
    try {
      resolve("Bearer ${LAB_TOKEN}", {});
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ContractValidationError);
      expect((error as ContractValidationError).issues).toEqual([
        {
          path: "url",
          expected: "a secret the app declares or an environment variable LAB_TOKEN",
          message: "LAB_TOKEN is not set",
          code: "missing_env",
        },
      ]);
      expect(String(error)).toContain("arm.json");
    }
  });

  it("report a name as unset whatever it is called, Object.prototype's member names too", () => {
    for (const name of ["constructor", "toString", "__proto__"]) {
      expect(() => resolve(`Bearer \${${name}}`, {}), name).toThrow(`${name} is not set`);
      expect(resolve(`\${${name}:-none}`, {}), name).toBe("none");
      expect(() => checkReferences(`\${${name}}`, {}, [], "arm.json", "headers.x"), name).toThrow(
        `${name} is not set`,
      );
      expect(() =>
        checkReferences(`\${${name}}`, {}, [name], "arm.json", "headers.x"),
      ).not.toThrow();
    }
    const set = JSON.parse('{"constructor": "c", "__proto__": "p"}');
    expect(resolve("${constructor}/${__proto__}", set)).toBe("c/p");
  });
});

describe("URL fields with references", () => {
  it("resolve, then must still be http(s) URLs, else the agent stops naming the field", () => {
    expect(resolveUrl("http://${VLLM:-127.0.0.1:8000}/v1", {}, "vla.json", "base_url")).toBe(
      "http://127.0.0.1:8000/v1",
    );
    expect(() =>
      resolveUrl("${VLLM_URL}", { VLLM_URL: "ftp://x" }, "vla.json", "base_url"),
    ).toThrow(/base_url.*"ftp:\/\/x" \(resolved from "\$\{VLLM_URL\}"\) is not an http\(s\) URL/s);
    expect(
      declarationIssues(httpJsonAdapter, {
        kind: "http-json",
        name: "x",
        base_url: "x://${H}",
        endpoints: [],
      }),
    ).toContain("base_url");
  });

  it("resolve, then must still be ws(s) URLs for rosbridge and zenoh, else the agent stops naming the file and field", () => {
    const start = (factory: AdapterFactory, declaration: object, env: NodeJS.ProcessEnv) => () =>
      factory(declaration, { file: "arm.json", env });
    const service = { tool: "enable", description: "e", op: "service", service: "/arm/enable" };
    const rosbridge = { kind: "rosbridge", name: "arm", tools: [service] };
    const odom = { tool: "odom", description: "o", op: "subscribe", key_expr: "robot/odom" };
    const zenoh = { kind: "zenoh", name: "arm", tools: [odom] };
    const rosUrl = { ...rosbridge, url: "ws://${ROBOT_ROSBRIDGE}" };
    const zenohLocator = { ...zenoh, locator: "ws/${ZENOH_ROUTER}" };
    expect(start(rosbridgeAdapter, rosUrl, { ROBOT_ROSBRIDGE: "" })).toThrow(
      /arm\.json.*url.*"ws:\/\/" \(resolved from "ws:\/\/\$\{ROBOT_ROSBRIDGE\}"\) is not a ws\(s\) URL/s,
    );
    expect(start(zenohAdapter, zenohLocator, { ZENOH_ROUTER: "" })).toThrow(
      /arm\.json.*locator.*"ws:\/\/" .* is not a ws\(s\) URL/s,
    );
    expect(start(rosbridgeAdapter, rosUrl, { ROBOT_ROSBRIDGE: "robot:9090" })).not.toThrow();
    expect(start(zenohAdapter, zenohLocator, { ZENOH_ROUTER: "127.0.0.1:10000" })).not.toThrow();
  });
});
