import { describe, expect, it } from "vitest";
import { IPC_DOMAINS, ipcDomain } from "../../../../bench/pddl/domains";
import { solve, solveAsync, solvePddl } from "../../../../central/planning/pddl";
import { simulate } from "../../../../central/planning/pddl/plan";
import { readDomain, readProblem } from "../../../../contract/pddl";
import { taskOf } from "./support";

/** Checks a solved plan by replaying it on the grounded task. */
function replay(domain: string, problem: string, actions: string[]): boolean {
  const task = taskOf(domain, problem);
  const ids = actions.map((a) => task.operators.findIndex((o) => o.name === a));
  return !ids.includes(-1) && simulate(task, ids).ok;
}

// One token, two consumers: the relaxation reaches the goal, no plan does.
const TOKEN = `(define (domain token) (:predicates (token) (a-done) (b-done))
  (:action a :parameters () :precondition (token) :effect (and (a-done) (not (token))))
  (:action b :parameters () :precondition (token) :effect (and (b-done) (not (token)))))`;
const TOKEN_PROBLEM =
  "(define (problem p) (:domain token) (:init (token)) (:goal (and (a-done) (b-done))))";

describe("search", () => {
  it("finds optimal plans of known cost with A* and LM-cut", () => {
    const gripper = ipcDomain("gripper");
    for (const n of [2, 4, 6]) {
      const r = solvePddl(gripper.domain, gripper.problem(n, 1), { optimal: true });
      // Two grippers: each pair of balls takes pick, pick, move, drop, drop, and a move back.
      expect(r).toMatchObject({ status: "solved", cost: 3 * n - 1, optimal: true });
    }
    const visitall = ipcDomain("visitall");
    expect(solvePddl(visitall.domain, visitall.problem(3, 1), { optimal: true })).toMatchObject({
      cost: 8,
    });
  });

  it("solves every domain in both modes with valid plans; greedy never beats optimal", () => {
    for (const d of IPC_DOMAINS) {
      const problem = d.problem(3, 7);
      const greedy = solvePddl(d.domain, problem);
      const optimal = solvePddl(d.domain, problem, { optimal: true });
      if (greedy.status !== "solved" || optimal.status !== "solved")
        throw new Error(`${d.name}: ${greedy.status}, ${optimal.status}`);
      const actions = (r: typeof greedy & { status: "solved" }) => r.steps.map((s) => s.action);
      expect(replay(d.domain, problem, actions(greedy)), d.name).toBe(true);
      expect(replay(d.domain, problem, actions(optimal)), d.name).toBe(true);
      expect(greedy.cost, d.name).toBeGreaterThanOrEqual(optimal.cost);
    }
  });

  it("solves with action costs: the optimal plan is cheapest, not shortest", () => {
    const domain = `(define (domain roads) (:requirements :typing :action-costs)
      (:types city) (:predicates (at ?c - city) (road ?a ?b - city))
      (:functions (length ?a ?b - city) - number (total-cost) - number)
      (:action drive :parameters (?a ?b - city) :precondition (and (at ?a) (road ?a ?b))
        :effect (and (not (at ?a)) (at ?b) (increase (total-cost) (length ?a ?b)))))`;
    const problem = `(define (problem p) (:domain roads) (:objects a b c d - city)
      (:init (at a) (road a d) (road a b) (road b c) (road c d)
        (= (length a d) 10) (= (length a b) 2) (= (length b c) 2) (= (length c d) 2))
      (:goal (at d)) (:metric minimize (total-cost)))`;
    const r = solvePddl(domain, problem, { optimal: true });
    expect(r).toMatchObject({
      status: "solved",
      cost: 6,
      steps: [
        { action: "(drive a b)", cost: 2 },
        { action: "(drive b c)", cost: 2 },
        { action: "(drive c d)", cost: 2 },
      ],
    });
  });

  it("returns the empty plan when the goal already holds", () => {
    const d = ipcDomain("blocksworld");
    const problem =
      "(define (problem p) (:domain blocksworld) (:objects a) (:init (on-table a) (clear a) (arm-empty)) (:goal (on-table a)))";
    for (const optimal of [false, true])
      expect(solvePddl(d.domain, problem, { optimal })).toMatchObject({
        status: "solved",
        steps: [],
        cost: 0,
        order: [],
      });
  });

  it("proves unsolvable by exhausting the reachable states, in both modes", () => {
    for (const optimal of [false, true])
      expect(solvePddl(TOKEN, TOKEN_PROBLEM, { optimal })).toMatchObject({
        status: "unsolvable",
        reason: expect.stringContaining("every reachable state"),
      });
  });

  it("bounds the bindings grounding tries, not only the actions it makes", () => {
    // 200^3 bindings of which only 200 make an action; no pause comes inside one schema's joins.
    const items = Array.from({ length: 200 }, (_, i) => `i${i}`).join(" ");
    const domain = readDomain(`(define (domain tags) (:requirements :typing :equality)
      (:types item) (:predicates (tagged ?a ?b ?c - item) (done))
      (:action tag :parameters (?a ?b ?c - item)
        :precondition (and (= ?a ?b) (= ?b ?c)) :effect (tagged ?a ?b ?c)))`);
    const problem = readProblem(
      `(define (problem p) (:domain tags) (:objects ${items} - item) (:init) (:goal (done)))`,
      domain,
    );
    const started = performance.now();
    expect(solve(domain, problem, { maxGroundActions: 1_000 })).toMatchObject({
      status: "limit",
      reason: "ground-actions",
    });
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("stops at its limits and says which, distinct from unsolvable", async () => {
    const d = ipcDomain("logistics");
    const domain = readDomain(d.domain);
    const problem = readProblem(d.problem(8, 1), domain);
    expect(solve(domain, problem, { optimal: true, maxExpansions: 5 })).toMatchObject({
      status: "limit",
      reason: "expansions",
      stats: { expanded: 5 },
    });
    expect(solve(domain, problem, { maxStates: 50 })).toMatchObject({
      status: "limit",
      reason: "states",
    });
    expect(solve(domain, problem, { maxGroundActions: 100 })).toMatchObject({
      status: "limit",
      reason: "ground-actions",
    });
    // Fewer stored states fit when each is larger: 50 states of logistics take about 1 KiB.
    expect(solve(domain, problem, { maxStateBytes: 1024 })).toMatchObject({
      status: "limit",
      reason: "states",
    });
    let clock = 0;
    const now = () => (clock += 1000);
    expect(solve(domain, problem, { optimal: true, deadline: 5_000, now })).toMatchObject({
      status: "limit",
      reason: "deadline",
    });
    expect(solve(domain, problem, { signal: AbortSignal.abort() })).toMatchObject({
      status: "limit",
      reason: "aborted",
    });
    // The async solve yields between slices, so an abort from elsewhere lands mid-search.
    const stop = new AbortController();
    const running = solveAsync(domain, problem, { optimal: true, signal: stop.signal, sliceMs: 0 });
    setTimeout(() => stop.abort(), 0);
    expect(await running).toMatchObject({ status: "limit", reason: "aborted" });
    expect(await solveAsync(domain, readProblem(d.problem(3, 1), domain))).toMatchObject({
      status: "solved",
    });
  });
});
