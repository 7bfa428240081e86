import {
  type ActionSchema,
  type Domain,
  type Literal,
  PddlError,
  type Problem,
} from "../../../contract/pddl";
import { LimitReached } from "./limits";
import { append } from "./multimap";
import type { Operator, Task } from "./task";

/** Grounding stops for a moment this often so a caller can check its limits. */
const YIELD_EVERY = 4096;
/** Binding steps allowed per allowed ground action (Limits.maxGroundActions). */
const GROUND_STEPS_PER_ACTION = 16;

/** Every object of each type, subtypes included; `either` types are unions. */
export function objectsByType(domain: Domain, problem: Problem): Map<string, Set<string>> {
  const parent = new Map(domain.types.map((t) => [t.name, t.parent]));
  const byType = new Map<string, Set<string>>([["object", new Set()]]);
  for (const t of domain.types) byType.set(t.name, new Set());
  for (const o of [...domain.constants, ...problem.objects])
    for (const type of o.types) {
      for (let t: string | undefined = type; t !== undefined; t = parent.get(t))
        byType.get(t)?.add(o.name);
      byType.get("object")!.add(o.name);
    }
  return byType;
}

export const key = (predicate: string, args: readonly string[]) =>
  args.length === 0 ? `(${predicate})` : `(${predicate} ${args.join(" ")})`;

/** Atoms reached so far, indexed by predicate and by (predicate, position, object). */
class AtomIndex {
  private readonly all = new Map<string, string[][]>();
  private readonly byArg = new Map<string, string[][]>();
  readonly keys = new Set<string>();

  add(predicate: string, args: string[]): boolean {
    const k = key(predicate, args);
    if (this.keys.has(k)) return false;
    this.keys.add(k);
    append(this.all, predicate, args);
    for (let i = 0; i < args.length; i++) append(this.byArg, `${predicate}/${i}/${args[i]}`, args);
    return true;
  }

  /** Candidates for a literal given the bound arguments (the smallest index list). */
  candidates(predicate: string, bound: (string | undefined)[]): string[][] {
    let best = this.all.get(predicate) ?? [];
    for (let i = 0; i < bound.length; i++) {
      if (bound[i] === undefined) continue;
      const l = this.byArg.get(`${predicate}/${i}/${bound[i]}`) ?? [];
      if (l.length < best.length) best = l;
    }
    return best;
  }
}

interface Compiled {
  schema: ActionSchema;
  /** Parameter index of each variable. */
  index: Map<string, number>;
  /** Positive preconditions that take part in the join (fluent and static). */
  joins: Literal[];
  fluentJoins: Literal[];
  domains: Set<string>[];
}

/**
 * Grounds a problem by relaxed reachability: an action instance is made only once all its
 * positive preconditions can be reached ignoring deletes, found by a semi-naive join of each
 * newly reached atom with those reached before it. Static predicates (in no effect) are
 * decided from the initial state and vanish from the task; negative preconditions on atoms
 * that can never be true are dropped. A generator: it pauses between atoms; inside one
 * atom's joins, `check` is called every few thousand steps (it may throw to stop), and more
 * than `maxActions` ground actions (or 16 binding steps for each) stop it with
 * LimitReached("ground-actions").
 */
export function* ground(
  domain: Domain,
  problem: Problem,
  check: () => void = () => {},
  maxActions = Number.POSITIVE_INFINITY,
): Generator<void, Task> {
  const byType = objectsByType(domain, problem);
  const fluent = new Set(domain.actions.flatMap((a) => a.effect.map((e) => e.predicate)));
  const initKeys = new Set(problem.init.map((l) => key(l.predicate, l.args)));
  const reached = new AtomIndex();
  const compiled: Compiled[] = domain.actions.map((schema) => {
    const index = new Map(schema.params.map((p, i) => [p.name, i]));
    const joins = schema.precondition
      .filter((l) => !l.negated && l.predicate !== "=")
      .sort((a, b) => Number(fluent.has(a.predicate)) - Number(fluent.has(b.predicate)));
    const domains = schema.params.map((p) => {
      const set = new Set<string>();
      for (const t of p.types) for (const o of byType.get(t) ?? []) set.add(o);
      return set;
    });
    return {
      schema,
      index,
      joins,
      fluentJoins: joins.filter((l) => fluent.has(l.predicate)),
      domains,
    };
  });
  const byPredicate = new Map<string, { c: Compiled; literal: Literal }[]>();
  for (const c of compiled)
    for (const literal of c.fluentJoins) append(byPredicate, literal.predicate, { c, literal });

  const instances = new Map<string, { c: Compiled; args: string[] }>();
  const queue: [string, string[]][] = [];
  const reach = (predicate: string, args: string[]) => {
    if (reached.keys.has(key(predicate, args))) return;
    queue.push([predicate, args]);
  };
  // Static atoms are all known at once; fluent atoms join the index as they are processed.
  for (const l of problem.init) {
    if (fluent.has(l.predicate)) reach(l.predicate, l.args);
    else reached.add(l.predicate, l.args);
  }

  let steps = 0;
  const maxSteps = maxActions * GROUND_STEPS_PER_ACTION;
  const bounded = () => {
    if (steps > maxSteps) throw new LimitReached("ground-actions");
    check();
  };
  const binding: (string | undefined)[] = [];
  const resolve = (arg: string, c: Compiled) => {
    const i = c.index.get(arg);
    return i === undefined ? arg : binding[i];
  };
  const emit = (c: Compiled) => {
    const args = binding as string[];
    for (const l of c.schema.precondition) {
      if (l.predicate === "=") {
        const same = resolve(l.args[0]!, c) === resolve(l.args[1]!, c);
        if (same === l.negated) return;
      } else if (l.negated && !fluent.has(l.predicate)) {
        if (
          initKeys.has(
            key(
              l.predicate,
              l.args.map((a) => resolve(a, c)!),
            ),
          )
        )
          return;
      }
    }
    const id = `${c.schema.name} ${args.join(" ")}`;
    if (instances.has(id)) return;
    instances.set(id, { c, args: args.slice() });
    if (instances.size > maxActions) throw new LimitReached("ground-actions");
    for (const e of c.schema.effect)
      if (!e.negated)
        reach(
          e.predicate,
          e.args.map((a) => resolve(a, c)!),
        );
  };
  /** Binds the remaining joins from position `at`, then the parameters no join binds. */
  function join(c: Compiled, skip: Literal | undefined, at: number): void {
    if (++steps % YIELD_EVERY === 0) bounded();
    if (at === c.joins.length) {
      free(c, 0);
      return;
    }
    const literal = c.joins[at]!;
    if (literal === skip) {
      join(c, skip, at + 1);
      return;
    }
    const bound = literal.args.map((a) => resolve(a, c));
    for (const tuple of reached.candidates(literal.predicate, bound)) {
      const set: number[] = [];
      let ok = true;
      for (let i = 0; i < tuple.length && ok; i++) {
        const arg = literal.args[i]!;
        const p = c.index.get(arg);
        if (p === undefined) ok = arg === tuple[i];
        else if (binding[p] === undefined) {
          if (c.domains[p]!.has(tuple[i]!)) {
            binding[p] = tuple[i];
            set.push(p);
          } else ok = false;
        } else ok = binding[p] === tuple[i];
      }
      if (ok) join(c, skip, at + 1);
      for (const p of set) binding[p] = undefined;
    }
  }
  function free(c: Compiled, from: number): void {
    if (++steps % YIELD_EVERY === 0) bounded();
    let p = from;
    while (p < c.domains.length && binding[p] !== undefined) p++;
    if (p === c.domains.length) {
      emit(c);
      return;
    }
    for (const o of c.domains[p]!) {
      binding[p] = o;
      free(c, p + 1);
    }
    binding[p] = undefined;
  }
  const start = (c: Compiled) => {
    binding.length = 0;
    for (let i = 0; i < c.domains.length; i++) binding.push(undefined);
  };

  for (const c of compiled)
    if (c.fluentJoins.length === 0) {
      start(c);
      join(c, undefined, 0);
    }
  let paused = 0;
  for (let q = 0; q < queue.length; q++) {
    if (steps - paused >= YIELD_EVERY) {
      paused = steps;
      yield;
    }
    const [predicate, args] = queue[q]!;
    if (!reached.add(predicate, args)) continue;
    for (const { c, literal } of byPredicate.get(predicate) ?? []) {
      start(c);
      let ok = true;
      for (let i = 0; i < args.length && ok; i++) {
        const arg = literal.args[i]!;
        const p = c.index.get(arg);
        if (p === undefined) ok = arg === args[i];
        else if (binding[p] === undefined) {
          if (c.domains[p]!.has(args[i]!)) binding[p] = args[i];
          else ok = false;
        } else ok = binding[p] === args[i];
      }
      if (ok) join(c, literal, 0);
    }
  }

  return build(problem, fluent, initKeys, reached, instances);
}

function build(
  problem: Problem,
  fluent: Set<string>,
  initKeys: Set<string>,
  reached: AtomIndex,
  instances: Map<string, { c: Compiled; args: string[] }>,
): Task {
  const facts: string[] = [];
  const ids = new Map<string, number>();
  for (const k of reached.keys) {
    const predicate = k.slice(1, k.indexOf(" ") > 0 ? k.indexOf(" ") : -1);
    if (!fluent.has(predicate)) continue;
    ids.set(k, facts.length);
    facts.push(k);
  }
  const values = new Map(problem.values.map((v) => [key(v.name, v.args), v.value]));
  const operators: Operator[] = [];
  for (const { c, args } of instances.values()) {
    const sub = (a: string) => {
      const i = c.index.get(a);
      return i === undefined ? a : args[i]!;
    };
    const pre: number[] = [];
    const preNeg: number[] = [];
    for (const l of c.schema.precondition) {
      if (l.predicate === "=" || !fluent.has(l.predicate)) continue;
      const id = ids.get(key(l.predicate, l.args.map(sub)));
      if (!l.negated) pre.push(id!);
      else if (id !== undefined) preNeg.push(id);
    }
    const add = new Set<number>();
    const del = new Set<number>();
    for (const e of c.schema.effect) {
      const id = ids.get(key(e.predicate, e.args.map(sub)));
      if (id === undefined) continue;
      (e.negated ? del : add).add(id);
    }
    // A fact both deleted and added ends up true (deletes apply first).
    for (const f of add) del.delete(f);
    let cost = 1;
    if (problem.minimizeTotalCost) {
      const expr = c.schema.cost;
      if (!expr) cost = 0;
      else if (expr.kind === "number") cost = expr.value;
      else {
        const k = key(expr.name, expr.args.map(sub));
        const value = values.get(k);
        if (value === undefined) throw new PddlError(`no initial value for ${k}`, expr.pos);
        if (value < 0) throw new PddlError(`${k} is negative: action costs must be >= 0`, expr.pos);
        cost = value;
      }
    }
    operators.push({
      name: `(${c.schema.name}${args.map((a) => ` ${a}`).join("")})`,
      schema: c.schema.name,
      pre: uniqueSorted(pre),
      preNeg: uniqueSorted(preNeg),
      add: [...add].sort((a, b) => a - b),
      del: [...del].sort((a, b) => a - b),
      cost,
    });
  }
  const goal: number[] = [];
  const goalNeg: number[] = [];
  let impossible: string | undefined;
  for (const l of problem.goal) {
    if (l.predicate === "=") {
      if ((l.args[0] === l.args[1]) === l.negated) impossible = `the goal needs ${describe(l)}`;
      continue;
    }
    const k = key(l.predicate, l.args);
    if (!fluent.has(l.predicate)) {
      if (initKeys.has(k) === l.negated) impossible = `${describe(l)} is static and false`;
      continue;
    }
    const id = ids.get(k);
    if (!l.negated) {
      if (id === undefined) impossible = `no action sequence can make ${k} true`;
      else goal.push(id);
    } else if (id !== undefined) goalNeg.push(id);
  }
  const task: Task = {
    facts,
    operators,
    init: [...initKeys].map((k) => ids.get(k)).filter((id): id is number => id !== undefined),
    goal: uniqueSorted(goal),
    goalNeg: uniqueSorted(goalNeg),
    hasCosts: problem.minimizeTotalCost,
  };
  if (impossible) task.unreachable = impossible;
  return task;
}

function describe(l: Literal): string {
  const atom = key(l.predicate, l.args);
  return l.negated ? `(not ${atom})` : atom;
}

function uniqueSorted(xs: number[]): number[] {
  return [...new Set(xs)].sort((a, b) => a - b);
}
