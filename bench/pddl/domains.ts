/**
 * Classic IPC domains and seeded instance generators, written after the IPC generators'
 * definitions (the FF domain collection / AI-Planning pddl-generators); no generator package
 * is published on PyPI. Each `problem(size, seed)` is deterministic. Used by the validation
 * tests and the benchmark.
 */

/** mulberry32: a small seeded PRNG, so instances are the same on every run. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rng: () => number, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
const range = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

function shuffle<T>(rng: () => number, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

const problem = (
  name: string,
  domain: string,
  objects: string,
  init: string[],
  goal: string[],
  metric = false,
) =>
  `(define (problem ${name}) (:domain ${domain})
  (:objects ${objects})
  (:init ${init.join(" ")})
  (:goal (and ${goal.join(" ")}))${metric ? "\n  (:metric minimize (total-cost))" : ""})
`;

export interface IpcDomain {
  name: string;
  domain: string;
  /** What `size` counts, for reports. */
  size: string;
  problem(size: number, seed: number): string;
}

/** Random towers: each block goes on the table or on top of a random earlier tower. */
function towers(rng: () => number, blocks: string[]): string[][] {
  const stacks: string[][] = [];
  for (const b of shuffle(rng, [...blocks])) {
    if (stacks.length === 0 || rng() < 1 / (stacks.length + 1)) stacks.push([b]);
    else pick(rng, stacks).push(b);
  }
  return stacks;
}

const blocksworld: IpcDomain = {
  name: "blocksworld",
  size: "blocks",
  domain: `(define (domain blocksworld)
  (:requirements :strips)
  (:predicates (clear ?x) (on-table ?x) (arm-empty) (holding ?x) (on ?x ?y))
  (:action pick-up :parameters (?x)
    :precondition (and (clear ?x) (on-table ?x) (arm-empty))
    :effect (and (holding ?x) (not (clear ?x)) (not (on-table ?x)) (not (arm-empty))))
  (:action put-down :parameters (?x)
    :precondition (holding ?x)
    :effect (and (clear ?x) (arm-empty) (on-table ?x) (not (holding ?x))))
  (:action stack :parameters (?x ?y)
    :precondition (and (clear ?y) (holding ?x))
    :effect (and (arm-empty) (clear ?x) (on ?x ?y) (not (clear ?y)) (not (holding ?x))))
  (:action unstack :parameters (?x ?y)
    :precondition (and (on ?x ?y) (clear ?x) (arm-empty))
    :effect (and (holding ?x) (clear ?y) (not (on ?x ?y)) (not (clear ?x)) (not (arm-empty)))))
`,
  problem(n, seed) {
    const rng = random(seed);
    const blocks = range(n, "b");
    const init = ["(arm-empty)"];
    for (const t of towers(rng, blocks)) {
      init.push(`(on-table ${t[0]})`, `(clear ${t[t.length - 1]})`);
      for (let i = 1; i < t.length; i++) init.push(`(on ${t[i]} ${t[i - 1]})`);
    }
    const goal: string[] = [];
    for (const t of towers(rng, blocks))
      for (let i = 1; i < t.length; i++) goal.push(`(on ${t[i]} ${t[i - 1]})`);
    if (goal.length === 0) goal.push(`(on-table ${blocks[0]})`);
    return problem(`bw-${n}-${seed}`, "blocksworld", blocks.join(" "), init, goal);
  },
};

const gripper: IpcDomain = {
  name: "gripper",
  size: "balls",
  domain: `(define (domain gripper)
  (:requirements :strips)
  (:predicates (room ?r) (ball ?b) (gripper ?g) (at-robby ?r) (at ?b ?r) (free ?g) (carry ?o ?g))
  (:action move :parameters (?from ?to)
    :precondition (and (room ?from) (room ?to) (at-robby ?from))
    :effect (and (at-robby ?to) (not (at-robby ?from))))
  (:action pick :parameters (?obj ?room ?gripper)
    :precondition (and (ball ?obj) (room ?room) (gripper ?gripper) (at ?obj ?room) (at-robby ?room) (free ?gripper))
    :effect (and (carry ?obj ?gripper) (not (at ?obj ?room)) (not (free ?gripper))))
  (:action drop :parameters (?obj ?room ?gripper)
    :precondition (and (ball ?obj) (room ?room) (gripper ?gripper) (carry ?obj ?gripper) (at-robby ?room))
    :effect (and (at ?obj ?room) (free ?gripper) (not (carry ?obj ?gripper)))))
`,
  problem(n) {
    const balls = range(n, "ball");
    const init = [
      "(room rooma)",
      "(room roomb)",
      "(gripper left)",
      "(gripper right)",
      "(at-robby rooma)",
      "(free left)",
      "(free right)",
    ];
    for (const b of balls) init.push(`(ball ${b})`, `(at ${b} rooma)`);
    return problem(
      `gripper-${n}`,
      "gripper",
      `rooma roomb left right ${balls.join(" ")}`,
      init,
      balls.map((b) => `(at ${b} roomb)`),
    );
  },
};

const logistics: IpcDomain = {
  name: "logistics",
  size: "packages (cities = packages/2+1, 2 locations each, 1 airplane)",
  domain: `(define (domain logistics)
  (:requirements :strips :typing)
  (:types truck airplane - vehicle package vehicle - physobj airport location - place city place physobj - object)
  (:predicates (in-city ?loc - place ?city - city) (at ?obj - physobj ?loc - place) (in ?pkg - package ?veh - vehicle))
  (:action load-truck :parameters (?pkg - package ?truck - truck ?loc - place)
    :precondition (and (at ?truck ?loc) (at ?pkg ?loc))
    :effect (and (not (at ?pkg ?loc)) (in ?pkg ?truck)))
  (:action load-airplane :parameters (?pkg - package ?airplane - airplane ?loc - place)
    :precondition (and (at ?pkg ?loc) (at ?airplane ?loc))
    :effect (and (not (at ?pkg ?loc)) (in ?pkg ?airplane)))
  (:action unload-truck :parameters (?pkg - package ?truck - truck ?loc - place)
    :precondition (and (at ?truck ?loc) (in ?pkg ?truck))
    :effect (and (not (in ?pkg ?truck)) (at ?pkg ?loc)))
  (:action unload-airplane :parameters (?pkg - package ?airplane - airplane ?loc - place)
    :precondition (and (in ?pkg ?airplane) (at ?airplane ?loc))
    :effect (and (not (in ?pkg ?airplane)) (at ?pkg ?loc)))
  (:action drive-truck :parameters (?truck - truck ?loc-from - place ?loc-to - place ?city - city)
    :precondition (and (at ?truck ?loc-from) (in-city ?loc-from ?city) (in-city ?loc-to ?city))
    :effect (and (not (at ?truck ?loc-from)) (at ?truck ?loc-to)))
  (:action fly-airplane :parameters (?airplane - airplane ?loc-from - airport ?loc-to - airport)
    :precondition (at ?airplane ?loc-from)
    :effect (and (not (at ?airplane ?loc-from)) (at ?airplane ?loc-to))))
`,
  problem(n, seed) {
    const rng = random(seed);
    const cities = range(Math.floor(n / 2) + 1, "c");
    const places = cities.flatMap((c) => [`${c}-ap`, `${c}-l1`]);
    const packages = range(n, "p");
    const trucks = cities.map((c) => `${c}-t`);
    const init = [
      ...cities.flatMap((c) => [
        `(in-city ${c}-ap ${c})`,
        `(in-city ${c}-l1 ${c})`,
        `(at ${c}-t ${pick(rng, [`${c}-ap`, `${c}-l1`])})`,
      ]),
      `(at plane1 ${pick(rng, cities)}-ap)`,
      ...packages.map((p) => `(at ${p} ${pick(rng, places)})`),
    ];
    const goal = packages.map((p) => `(at ${p} ${pick(rng, places)})`);
    const objects = `${cities.join(" ")} - city ${cities.map((c) => `${c}-ap`).join(" ")} - airport ${cities.map((c) => `${c}-l1`).join(" ")} - location ${trucks.join(" ")} - truck plane1 - airplane ${packages.join(" ")} - package`;
    return problem(`logistics-${n}-${seed}`, "logistics", objects, init, goal);
  },
};

const miconic: IpcDomain = {
  name: "miconic",
  size: "passengers (floors = passengers)",
  domain: `(define (domain miconic)
  (:requirements :strips)
  (:predicates (origin ?person ?floor) (floor ?floor) (passenger ?passenger) (destin ?person ?floor)
    (above ?floor1 ?floor2) (boarded ?person) (served ?person) (lift-at ?floor))
  (:action board :parameters (?f ?p)
    :precondition (and (floor ?f) (passenger ?p) (lift-at ?f) (origin ?p ?f))
    :effect (boarded ?p))
  (:action depart :parameters (?f ?p)
    :precondition (and (floor ?f) (passenger ?p) (lift-at ?f) (destin ?p ?f) (boarded ?p))
    :effect (and (not (boarded ?p)) (served ?p)))
  (:action up :parameters (?f1 ?f2)
    :precondition (and (floor ?f1) (floor ?f2) (lift-at ?f1) (above ?f1 ?f2))
    :effect (and (lift-at ?f2) (not (lift-at ?f1))))
  (:action down :parameters (?f1 ?f2)
    :precondition (and (floor ?f1) (floor ?f2) (lift-at ?f1) (above ?f2 ?f1))
    :effect (and (lift-at ?f2) (not (lift-at ?f1)))))
`,
  problem(n, seed) {
    const rng = random(seed);
    const floors = range(n, "f");
    const people = range(n, "p");
    const init = [`(lift-at ${floors[0]})`, ...floors.map((f) => `(floor ${f})`)];
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++) init.push(`(above ${floors[i]} ${floors[j]})`);
    for (const p of people) {
      const from = pick(rng, floors);
      let to = pick(rng, floors);
      while (n > 1 && to === from) to = pick(rng, floors);
      init.push(`(passenger ${p})`, `(origin ${p} ${from})`, `(destin ${p} ${to})`);
    }
    return problem(
      `miconic-${n}-${seed}`,
      "miconic",
      [...floors, ...people].join(" "),
      init,
      people.map((p) => `(served ${p})`),
    );
  },
};

const visitall: IpcDomain = {
  name: "visitall",
  size: "grid side",
  domain: `(define (domain grid-visit-all)
  (:requirements :typing)
  (:types place - object)
  (:predicates (connected ?x ?y - place) (at-robot ?x - place) (visited ?x - place))
  (:action move :parameters (?curpos ?nextpos - place)
    :precondition (and (at-robot ?curpos) (connected ?curpos ?nextpos))
    :effect (and (at-robot ?nextpos) (not (at-robot ?curpos)) (visited ?nextpos))))
`,
  problem(n) {
    const cell = (x: number, y: number) => `x${x}-y${y}`;
    const cells: string[] = [];
    const init = [`(at-robot ${cell(0, 0)})`, `(visited ${cell(0, 0)})`];
    for (let x = 0; x < n; x++)
      for (let y = 0; y < n; y++) {
        cells.push(cell(x, y));
        if (x + 1 < n)
          init.push(
            `(connected ${cell(x, y)} ${cell(x + 1, y)})`,
            `(connected ${cell(x + 1, y)} ${cell(x, y)})`,
          );
        if (y + 1 < n)
          init.push(
            `(connected ${cell(x, y)} ${cell(x, y + 1)})`,
            `(connected ${cell(x, y + 1)} ${cell(x, y)})`,
          );
      }
    return problem(
      `visitall-${n}`,
      "grid-visit-all",
      `${cells.join(" ")} - place`,
      init,
      cells.map((c) => `(visited ${c})`),
    );
  },
};

const transport: IpcDomain = {
  name: "transport",
  size: "packages (locations = packages+2, 2 trucks of capacity 2)",
  domain: `(define (domain transport)
  (:requirements :typing :action-costs)
  (:types location target locatable - object vehicle package - locatable capacity-number - object)
  (:predicates (road ?l1 ?l2 - location) (at ?x - locatable ?v - location) (in ?x - package ?v - vehicle)
    (capacity ?v - vehicle ?s1 - capacity-number) (capacity-predecessor ?s1 ?s2 - capacity-number))
  (:functions (road-length ?l1 ?l2 - location) - number (total-cost) - number)
  (:action drive :parameters (?v - vehicle ?l1 ?l2 - location)
    :precondition (and (at ?v ?l1) (road ?l1 ?l2))
    :effect (and (not (at ?v ?l1)) (at ?v ?l2) (increase (total-cost) (road-length ?l1 ?l2))))
  (:action pick-up :parameters (?v - vehicle ?l - location ?p - package ?s1 ?s2 - capacity-number)
    :precondition (and (at ?v ?l) (at ?p ?l) (capacity-predecessor ?s1 ?s2) (capacity ?v ?s2))
    :effect (and (not (at ?p ?l)) (in ?p ?v) (capacity ?v ?s1) (not (capacity ?v ?s2)) (increase (total-cost) 1)))
  (:action drop :parameters (?v - vehicle ?l - location ?p - package ?s1 ?s2 - capacity-number)
    :precondition (and (at ?v ?l) (in ?p ?v) (capacity-predecessor ?s1 ?s2) (capacity ?v ?s1))
    :effect (and (not (in ?p ?v)) (at ?p ?l) (capacity ?v ?s2) (not (capacity ?v ?s1)) (increase (total-cost) 1))))
`,
  problem(n, seed) {
    const rng = random(seed);
    const m = n + 2;
    const locations = range(m, "l");
    const xy = locations.map(() => [Math.floor(rng() * 100), Math.floor(rng() * 100)] as const);
    const dist = (i: number, j: number) =>
      Math.max(1, Math.round(Math.hypot(xy[i]![0] - xy[j]![0], xy[i]![1] - xy[j]![1]) / 10));
    const init = [
      "(= (total-cost) 0)",
      "(capacity-predecessor cap0 cap1)",
      "(capacity-predecessor cap1 cap2)",
    ];
    const road = (i: number, j: number) =>
      init.push(
        `(road ${locations[i]} ${locations[j]})`,
        `(= (road-length ${locations[i]} ${locations[j]}) ${dist(i, j)})`,
      );
    // A ring plus random chords: connected, with a choice of routes.
    for (let i = 0; i < m; i++) {
      road(i, (i + 1) % m);
      road((i + 1) % m, i);
    }
    for (let k = 0; k < m; k++) {
      const i = Math.floor(rng() * m);
      const j = Math.floor(rng() * m);
      if (i !== j && Math.abs(i - j) !== 1 && Math.abs(i - j) !== m - 1) {
        road(i, j);
        road(j, i);
      }
    }
    const packages = range(n, "p");
    for (const t of ["t1", "t2"])
      init.push(`(at ${t} ${pick(rng, locations)})`, `(capacity ${t} cap2)`);
    const goal: string[] = [];
    for (const p of packages) {
      const from = pick(rng, locations);
      let to = pick(rng, locations);
      while (to === from) to = pick(rng, locations);
      init.push(`(at ${p} ${from})`);
      goal.push(`(at ${p} ${to})`);
    }
    const objects = `${locations.join(" ")} - location t1 t2 - vehicle ${packages.join(" ")} - package cap0 cap1 cap2 - capacity-number`;
    return problem(`transport-${n}-${seed}`, "transport", objects, [...new Set(init)], goal, true);
  },
};

/**
 * Not an IPC domain: a lab robot with negative preconditions and equality, the features IPC
 * STRIPS domains leave out. Samples move between distinct stations; a station holds one
 * sample at a time.
 */
const lab: IpcDomain = {
  name: "lab",
  size: "samples (stations = samples+1)",
  domain: `(define (domain lab)
  (:requirements :strips :typing :negative-preconditions :equality)
  (:types sample station - object)
  (:predicates (at ?s - sample ?t - station) (occupied ?t - station) (analysed ?s - sample) (analyser ?t - station))
  (:action move :parameters (?s - sample ?from ?to - station)
    :precondition (and (at ?s ?from) (not (occupied ?to)) (not (= ?from ?to)))
    :effect (and (not (at ?s ?from)) (not (occupied ?from)) (at ?s ?to) (occupied ?to)))
  (:action analyse :parameters (?s - sample ?t - station)
    :precondition (and (at ?s ?t) (analyser ?t) (not (analysed ?s)))
    :effect (analysed ?s)))
`,
  problem(n, seed) {
    const rng = random(seed);
    const samples = range(n, "s");
    const stations = shuffle(rng, range(n + 1, "st"));
    const init = [`(analyser ${stations[0]})`];
    samples.forEach((s, i) => {
      init.push(`(at ${s} ${stations[i + 1]})`, `(occupied ${stations[i + 1]})`);
    });
    const goal = samples.map((s) => `(analysed ${s})`);
    const last = samples[samples.length - 1]!;
    goal.push(`(not (at ${last} ${stations[n]}))`);
    return problem(
      `lab-${n}-${seed}`,
      "lab",
      `${samples.join(" ")} - sample ${stations.join(" ")} - station`,
      init,
      goal,
    );
  },
};

export const IPC_DOMAINS: IpcDomain[] = [
  blocksworld,
  gripper,
  logistics,
  miconic,
  visitall,
  transport,
  lab,
];

export function ipcDomain(name: string): IpcDomain {
  const d = IPC_DOMAINS.find((x) => x.name === name);
  if (!d) throw new Error(`no domain ${name}`);
  return d;
}
