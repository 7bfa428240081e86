import { describe, expect, it } from "vitest";
import { BREAKER_EVENTS, BREAKER_STATES, breakerMachine, transition } from "../../../contract";

const LEGAL = `
closed trip open
open probe half_open
half_open probe_succeeded closed
half_open probe_failed open
half_open probe_lost open
half_open probe_skipped open
open reset closed
half_open reset closed
`;

describe("breaker machine", () => {
  it("allows exactly the listed transitions", () => {
    const legal = new Map(
      LEGAL.trim()
        .split("\n")
        .map((line) => {
          const [from, on, to] = line.split(" ");
          return [`${from} ${on}`, to];
        }),
    );
    for (const from of BREAKER_STATES)
      for (const on of BREAKER_EVENTS) {
        const result = transition(breakerMachine, from, on);
        const expected = legal.get(`${from} ${on}`);
        expect(result.ok ? result.to : null, `${from} --${on}-->`).toBe(expected ?? null);
      }
    expect(breakerMachine.initial).toBe("closed");
  });
});
