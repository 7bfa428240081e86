import { describe, expect, it } from "vitest";
import {
  agentMachine,
  allowedEvents,
  approvalMachine,
  defineMachine,
  IllegalTransitionError,
  intentMachine,
  isTerminal,
  type Machine,
  mustTransition,
  planMachine,
  runMachine,
  stepMachine,
  transition,
} from "../../contract";

/**
 * The legal transitions, written out independently of the machine definitions: the test fails
 * if a definition gains or loses an edge without this table changing with it.
 */
const RUN_LEGAL = `
pending dispatch dispatched
dispatched claim running
dispatched ack_timeout pending
dispatched lease_expired pending
dispatched retry pending
running lease_expired pending
running retry pending
running drop pending
running complete completed
pending fail failed
dispatched fail failed
running fail failed
pending cancel cancelled
dispatched cancel cancelled
running cancel cancelled
`;

const AGENT_LEGAL = `
offline connect online
disconnected connect online
degraded connect online
online connect online
busy connect busy
draining connect online
online assign busy
busy idle online
online drain draining
busy drain draining
online heartbeat_missed degraded
busy heartbeat_missed degraded
draining heartbeat_missed degraded
degraded heartbeat online
degraded heartbeat_missed disconnected
online disconnect disconnected
busy disconnect disconnected
draining disconnect disconnected
degraded disconnect disconnected
disconnected grace_expired offline
online shutdown offline
draining shutdown offline
degraded shutdown offline
`;

const INTENT_LEGAL = `
queued dispatch active
active requeue queued
active complete completed
active fail failed
queued fail failed
queued cancel cancelled
active cancel cancelled
queued expire expired
`;

const PLAN_LEGAL = `
planning planned running
planning gate awaiting_approval
awaiting_approval approve running
awaiting_approval reject failed
running pause paused
paused resume running
running repair replanning
replanning replanned running
running complete completed
planning fail failed
replanning fail failed
running fail failed
paused fail failed
awaiting_approval fail failed
planning cancel cancelled
awaiting_approval cancel cancelled
running cancel cancelled
paused cancel cancelled
replanning cancel cancelled
`;

const STEP_LEGAL = `
waiting unblock ready
waiting gate awaiting_approval
awaiting_approval approve ready
awaiting_approval reject failed
ready start running
running complete completed
running retry ready
running fail failed
ready fail failed
waiting cancel cancelled
awaiting_approval cancel cancelled
ready cancel cancelled
running cancel cancelled
waiting supersede superseded
awaiting_approval supersede superseded
ready supersede superseded
`;

const APPROVAL_LEGAL = `
pending approve approved
pending reject rejected
pending expire expired
pending withdraw withdrawn
`;

function table(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.trim().split("\n")) {
    const [from, on, to] = line.trim().split(/\s+/);
    map.set(`${from} ${on}`, to!);
  }
  return map;
}

function exhaustively<S extends string, E extends string>(
  machine: Machine<S, E>,
  legalText: string,
) {
  const legal = table(legalText);
  describe(`${machine.name} machine`, () => {
    for (const from of machine.states) {
      for (const on of machine.events) {
        const expected = legal.get(`${from} ${on}`);
        if (expected) {
          it(`${from} --${on}--> ${expected}`, () => {
            const result = transition(machine, from, on);
            expect(result).toEqual({ ok: true, from, on, to: expected });
            expect(mustTransition(machine, from, on)).toBe(expected);
          });
        } else {
          it(`refuses ${on} from ${from}`, () => {
            const result = transition(machine, from, on);
            expect(result.ok).toBe(false);
            if (!result.ok) {
              expect(result.error).toContain(`'${on}' is not allowed from '${from}'`);
              expect(result.allowed).toEqual(allowedEvents(machine, from));
            }
            expect(() => mustTransition(machine, from, on)).toThrow(IllegalTransitionError);
          });
        }
      }
    }

    it("has exactly the legal edges of the table", () => {
      expect(machine.edges.length).toBe(legal.size);
    });

    it("terminal states have no way out", () => {
      for (const state of machine.terminal) {
        expect(isTerminal(machine, state)).toBe(true);
        expect(allowedEvents(machine, state)).toEqual([]);
      }
    });

    it("every state is reachable from the initial state", () => {
      const seen = new Set<S>([machine.initial]);
      let grew = true;
      while (grew) {
        grew = false;
        for (const edge of machine.edges) {
          if (seen.has(edge.from) && !seen.has(edge.to)) {
            seen.add(edge.to);
            grew = true;
          }
        }
      }
      expect([...seen].sort()).toEqual([...machine.states].sort());
    });
  });
}

exhaustively(runMachine, RUN_LEGAL);
exhaustively(agentMachine, AGENT_LEGAL);
exhaustively(intentMachine, INTENT_LEGAL);
exhaustively(planMachine, PLAN_LEGAL);
exhaustively(stepMachine, STEP_LEGAL);
exhaustively(approvalMachine, APPROVAL_LEGAL);

describe("defineMachine", () => {
  it("rejects a duplicate edge", () => {
    expect(() =>
      defineMachine({
        name: "m",
        states: ["a", "b"],
        events: ["go"],
        initial: "a",
        terminal: [],
        edges: [
          { from: "a", on: "go", to: "b", why: "" },
          { from: "a", on: "go", to: "a", why: "" },
        ],
      }),
    ).toThrow(/duplicate edge/);
  });

  it("rejects an edge out of a terminal state", () => {
    expect(() =>
      defineMachine({
        name: "m",
        states: ["a", "b"],
        events: ["go"],
        initial: "a",
        terminal: ["b"],
        edges: [{ from: "b", on: "go", to: "a", why: "" }],
      }),
    ).toThrow(/terminal state b/);
  });

  it("names a terminal state in the refusal", () => {
    const result = transition(runMachine, "completed", "retry");
    expect(!result.ok && result.error).toContain("'completed' is terminal");
  });
});
