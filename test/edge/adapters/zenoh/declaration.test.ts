import { describe, expect, it } from "vitest";
import { zenohAdapter } from "../../../../edge/adapters/zenoh/adapter";
import { declarationIssues } from "../helpers";

const declaration = (key_expr: string) => ({
  kind: "zenoh",
  name: "lab-zenoh",
  locator: "ws/127.0.0.1:10000",
  tools: [{ tool: "robot_odom", description: "Odometry.", op: "subscribe", key_expr, count: 1 }],
});

describe("zenoh declaration", () => {
  it("refuses a subscribe key with a {param}, which no argument could fill", () => {
    expect(declarationIssues(zenohAdapter, declaration("robot/{robot}/odom"))).toEqual([
      "tools[0].key_expr",
    ]);
    expect(() =>
      zenohAdapter(declaration("robot/{robot}/odom"), { file: "zenoh.json", env: {} }),
    ).toThrow(/subscribe keys take no \{params\}; use \* wildcards/);
    expect(() =>
      zenohAdapter(declaration("robot/*/odom"), { file: "zenoh.json", env: {} }),
    ).not.toThrow();
  });
});
