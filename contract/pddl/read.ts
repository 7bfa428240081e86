import { PddlError, type Pos, readSExpr, type SAtom, type SExpr, type SList } from "./sexpr";
import {
  type ActionSchema,
  type CostExpr,
  type Domain,
  emptyDomain,
  type FunctionValue,
  type Literal,
  type PredicateDecl,
  type Problem,
  SUPPORTED_REQUIREMENTS,
  type TypeDecl,
  type TypedName,
} from "./syntax";

/**
 * Constructs outside the supported subset, by the requirement that would allow them. A Map, so
 * a predicate named `constructor` is a predicate, not Object's constructor.
 */
const NEEDS = new Map<string, string>(
  Object.entries({
    or: ":disjunctive-preconditions",
    imply: ":disjunctive-preconditions",
    exists: ":existential-preconditions",
    forall: ":universal-preconditions",
    when: ":conditional-effects",
    "<": ":numeric-fluents",
    ">": ":numeric-fluents",
    "<=": ":numeric-fluents",
    ">=": ":numeric-fluents",
    assign: ":numeric-fluents",
    decrease: ":numeric-fluents",
    "scale-up": ":numeric-fluents",
    "scale-down": ":numeric-fluents",
    ":derived": ":derived-predicates",
    ":durative-action": ":durative-actions",
    ":constraints": ":constraints",
  }),
);

const unsupported = (construct: string, pos: Pos, requirement = NEEDS.get(construct)) =>
  new PddlError(
    `'${construct}' needs ${requirement}, which is not supported (supported: ${SUPPORTED_REQUIREMENTS.join(" ")})`,
    pos,
  );

const isAtom = (e: SExpr | undefined): e is SAtom => e?.kind === "atom";
const isList = (e: SExpr | undefined): e is SList => e?.kind === "list";

function atom(e: SExpr | undefined, what: string, near: Pos): string {
  if (!isAtom(e)) throw new PddlError(`expected ${what}`, e?.pos ?? near);
  return e.value;
}

function list(e: SExpr | undefined, what: string, near: Pos): SList {
  if (!isList(e)) throw new PddlError(`expected ${what}`, e?.pos ?? near);
  return e;
}

function head(e: SList): string | undefined {
  const first = e.items[0];
  return isAtom(first) ? first.value : undefined;
}

/** `(define (<kind> <name>) sections...)`: the name and the sections. */
function define(text: string, kind: "domain" | "problem"): { name: string; sections: SList[] } {
  const root = readSExpr(text);
  if (head(root) !== "define")
    throw new PddlError(`expected '(define (${kind} ...) ...)'`, root.pos);
  const title = list(root.items[1], `(${kind} <name>)`, root.pos);
  if (head(title) !== kind)
    throw new PddlError(
      `expected (${kind} <name>), found (${head(title) ?? "..."} ...)`,
      title.pos,
    );
  const name = atom(title.items[1], `a ${kind} name`, title.pos);
  const sections = root.items.slice(2).map((s) => list(s, "a '(:section ...)'", root.pos));
  for (const section of sections)
    if (!head(section)?.startsWith(":"))
      throw new PddlError("expected a section like (:requirements ...)", section.pos);
  return { name, sections };
}

/** The declared requirements; every unsupported one is named in one error. */
function requirements(section: SList): string[] {
  const out: string[] = [];
  const refused: SAtom[] = [];
  for (const item of section.items.slice(1)) {
    const name = atom(item, "a requirement like :strips", section.pos);
    if ((SUPPORTED_REQUIREMENTS as readonly string[]).includes(name)) out.push(name);
    else refused.push(item as SAtom);
  }
  if (refused.length > 0)
    throw new PddlError(
      `unsupported requirement${refused.length > 1 ? "s" : ""} ${refused.map((r) => r.value).join(" ")} (supported: ${SUPPORTED_REQUIREMENTS.join(" ")})`,
      refused[0]!.pos,
    );
  return out;
}

/** `a b - t c - (either u v) d`: names with their types (`object` when untyped). */
function typedList(items: SExpr[], near: Pos, variables: boolean): TypedName[] {
  const out: TypedName[] = [];
  let pending: SAtom[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (isAtom(item) && item.value === "-") {
      const typeExpr = items[++i];
      let types: string[];
      if (isAtom(typeExpr)) types = [typeExpr.value];
      else if (isList(typeExpr) && head(typeExpr) === "either")
        types = typeExpr.items.slice(1).map((t) => atom(t, "a type name", typeExpr.pos));
      else throw new PddlError("expected a type after '-'", typeExpr?.pos ?? item.pos);
      if (pending.length === 0) throw new PddlError("a type with no names before it", item.pos);
      for (const name of pending) out.push({ name: name.value, types, pos: name.pos });
      pending = [];
      continue;
    }
    const name = atom(item, variables ? "a variable like ?x" : "a name", near);
    if (variables !== name.startsWith("?"))
      throw new PddlError(
        variables ? `expected a variable like ?x, found '${name}'` : `'${name}' is not a name`,
        item.pos,
      );
    pending.push(item as SAtom);
  }
  for (const name of pending) out.push({ name: name.value, types: ["object"], pos: name.pos });
  return out;
}

function unique<T extends { name: string; pos: Pos }>(items: T[], what: string): void {
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item.name))
      throw new PddlError(`${what} '${item.name}' is declared twice`, item.pos);
    seen.add(item.name);
  }
}

/** What a formula may refer to: predicates, functions, variables in scope, constants. */
interface Scope {
  predicates: Map<string, PredicateDecl>;
  functions: Map<string, PredicateDecl>;
  variables: Set<string>;
  constants: Set<string>;
  /** In a problem's goal and init: only objects and constants, no variables. */
  ground: boolean;
}

function term(e: SExpr, scope: Scope): string {
  const value = atom(e, "a variable or an object", e.pos);
  if (value.startsWith("?")) {
    if (scope.ground) throw new PddlError(`variable ${value} in a ground formula`, e.pos);
    if (!scope.variables.has(value)) throw new PddlError(`unknown variable ${value}`, e.pos);
  } else if (!scope.constants.has(value))
    throw new PddlError(`unknown ${scope.ground ? "object" : "constant"} '${value}'`, e.pos);
  return value;
}

function atomicFormula(e: SList, scope: Scope, negated: boolean): Literal {
  const name = head(e);
  if (name === undefined) throw new PddlError("expected a predicate name", e.pos);
  const args = e.items.slice(1).map((a) => term(a, scope));
  if (name === "=") {
    if (args.length !== 2) throw new PddlError("'=' takes two arguments", e.pos);
    return { predicate: "=", args, negated, pos: e.pos };
  }
  const decl = scope.predicates.get(name);
  if (!decl) throw new PddlError(`unknown predicate '${name}'`, e.pos);
  if (decl.params.length !== args.length)
    throw new PddlError(
      `'${name}' takes ${decl.params.length} argument(s), found ${args.length}`,
      e.pos,
    );
  return { predicate: name, args, negated, pos: e.pos };
}

/** A precondition or goal: a conjunction of literals (negation and equality allowed). */
function condition(e: SExpr, scope: Scope, out: Literal[] = []): Literal[] {
  const f = list(e, "a formula in parentheses", e.pos);
  if (f.items.length === 0) return out;
  const name = head(f);
  if (name === "and") for (const part of f.items.slice(1)) condition(part, scope, out);
  else if (name === "not") {
    const inner = list(f.items[1], "(not (<predicate> ...))", f.pos);
    const innerHead = head(inner);
    if (innerHead === "and" || innerHead === "not" || (innerHead && NEEDS.has(innerHead)))
      throw unsupported(`not (${innerHead} ...)`, f.pos, ":disjunctive-preconditions");
    out.push(atomicFormula(inner, scope, true));
  } else if (name && NEEDS.has(name)) throw unsupported(name, f.pos);
  else out.push(atomicFormula(f, scope, false));
  return out;
}

function costExpr(e: SExpr | undefined, scope: Scope, near: Pos): CostExpr {
  if (isAtom(e)) {
    const value = Number(e.value);
    if (!Number.isFinite(value) || value < 0)
      throw new PddlError(`an action cost must be a number >= 0, found '${e.value}'`, e.pos);
    return { kind: "number", value };
  }
  const f = list(e, "a cost: a number or (<function> ...)", near);
  const name = atom(f.items[0], "a function name", f.pos);
  const decl = scope.functions.get(name);
  if (!decl || name === "total-cost")
    throw new PddlError(`unknown cost function '${name}' (declare it in :functions)`, f.pos);
  const args = f.items.slice(1).map((a) => term(a, scope));
  if (args.length !== decl.params.length)
    throw new PddlError(`'${name}' takes ${decl.params.length} argument(s)`, f.pos);
  return { kind: "function", name, args, pos: f.pos };
}

function effect(e: SExpr, scope: Scope, out: { literals: Literal[]; cost?: CostExpr }): typeof out {
  const f = list(e, "an effect in parentheses", e.pos);
  if (f.items.length === 0) return out;
  const name = head(f);
  if (name === "and") for (const part of f.items.slice(1)) effect(part, scope, out);
  else if (name === "forall") throw unsupported("forall", f.pos, ":conditional-effects");
  else if (name === "increase") {
    const target = list(f.items[1], "(increase (total-cost) <cost>)", f.pos);
    if (head(target) !== "total-cost" || target.items.length !== 1)
      throw unsupported("increase", f.pos, ":numeric-fluents");
    if (!scope.functions.has("total-cost"))
      throw new PddlError("(total-cost) is not declared in :functions", target.pos);
    if (out.cost) throw new PddlError("the action increases total-cost twice", f.pos);
    out.cost = costExpr(f.items[2], scope, f.pos);
  } else if (name && NEEDS.has(name)) throw unsupported(name, f.pos);
  else {
    const negated = name === "not";
    const literal = atomicFormula(
      negated ? list(f.items[1], "(not (<predicate> ...))", f.pos) : f,
      scope,
      negated,
    );
    if (literal.predicate === "=") throw new PddlError("an effect cannot assert '='", f.pos);
    out.literals.push(literal);
  }
  return out;
}

function section(name: string, pos: Pos): never {
  if (NEEDS.has(name)) throw unsupported(name, pos);
  throw new PddlError(`unknown section ${name}`, pos);
}

/** Parses a PDDL domain; throws PddlError with the line and column of the first problem. */
export function readDomain(text: string): Domain {
  const { name, sections } = define(text, "domain");
  const domain = emptyDomain(name);
  const actionSections: SList[] = [];
  for (const s of sections) {
    const key = head(s)!;
    const body = s.items.slice(1);
    if (key === ":requirements") domain.requirements.push(...requirements(s));
    else if (key === ":types")
      for (const t of typedList(body, s.pos, false)) {
        if (t.types.length !== 1) throw new PddlError("a type's parent cannot be 'either'", t.pos);
        domain.types.push({ name: t.name, parent: t.types[0]!, pos: t.pos } satisfies TypeDecl);
      }
    else if (key === ":constants") domain.constants.push(...typedList(body, s.pos, false));
    else if (key === ":predicates" || key === ":functions") {
      const isFunctions = key === ":functions";
      for (let i = 0; i < body.length; i++) {
        const p = list(body[i], "(<name> ?params...)", s.pos);
        const declared = {
          name: atom(p.items[0], "a name", p.pos),
          params: typedList(p.items.slice(1), p.pos, true),
          pos: p.pos,
        };
        if (isFunctions && isAtom(body[i + 1]) && (body[i + 1] as SAtom).value === "-") {
          const type = atom(body[i + 2], "a function type", p.pos);
          if (type !== "number")
            throw unsupported(`object function ${declared.name}`, p.pos, ":object-fluents");
          i += 2;
        }
        (isFunctions ? domain.functions : domain.predicates).push(declared);
      }
    } else if (key === ":action") actionSections.push(s);
    else section(key, s.pos);
  }
  const typeNames = new Set(["object", ...domain.types.map((t) => t.name)]);
  for (const t of domain.types)
    if (!typeNames.has(t.parent)) throw new PddlError(`unknown type '${t.parent}'`, t.pos);
  checkAcyclic(domain.types);
  const checkTypes = (names: TypedName[]) => {
    for (const n of names)
      for (const t of n.types)
        if (!typeNames.has(t)) throw new PddlError(`unknown type '${t}' of ${n.name}`, n.pos);
  };
  checkTypes(domain.constants);
  unique(domain.constants, "constant");
  for (const p of [...domain.predicates, ...domain.functions]) checkTypes(p.params);
  unique(domain.predicates, "predicate");
  unique(domain.functions, "function");
  const scope = {
    predicates: new Map(domain.predicates.map((p) => [p.name, p])),
    functions: new Map(domain.functions.map((p) => [p.name, p])),
    constants: new Set(domain.constants.map((c) => c.name)),
    ground: false,
  };
  for (const s of actionSections) {
    const action = readAction(s, { ...scope, variables: new Set() });
    checkTypes(action.params);
    domain.actions.push(action);
  }
  unique(domain.actions, "action");
  return domain;
}

function checkAcyclic(types: TypeDecl[]): void {
  const parent = new Map(types.map((t) => [t.name, t.parent]));
  for (const t of types) {
    const seen = new Set<string>([t.name]);
    for (let p = parent.get(t.name); p !== undefined && p !== "object"; p = parent.get(p)) {
      if (seen.has(p)) throw new PddlError(`type '${t.name}' is its own ancestor`, t.pos);
      seen.add(p);
    }
  }
}

function readAction(s: SList, scope: Scope): ActionSchema {
  const name = atom(s.items[1], "an action name", s.pos);
  const action: ActionSchema = { name, params: [], precondition: [], effect: [], pos: s.pos };
  let precondition: SExpr | undefined;
  let effectExpr: SExpr | undefined;
  for (let i = 2; i < s.items.length; i += 2) {
    const key = atom(s.items[i], ":parameters, :precondition or :effect", s.pos);
    const value = s.items[i + 1];
    if (value === undefined) throw new PddlError(`${key} has no value`, s.items[i]!.pos);
    if (key === ":parameters") {
      action.params = typedList(list(value, "(?x - type ...)", s.pos).items, value.pos, true);
      unique(action.params, "parameter");
    } else if (key === ":precondition") precondition = value;
    else if (key === ":effect") effectExpr = value;
    else throw new PddlError(`unknown action key ${key}`, s.items[i]!.pos);
  }
  scope.variables = new Set(action.params.map((p) => p.name));
  if (precondition) action.precondition = condition(precondition, scope);
  if (effectExpr) {
    const out = effect(effectExpr, scope, { literals: [] });
    action.effect = out.literals;
    if (out.cost) action.cost = out.cost;
  }
  return action;
}

/** Parses a PDDL problem against its domain (names, arities and objects are checked). */
export function readProblem(text: string, domain: Domain): Problem {
  const { name, sections } = define(text, "problem");
  const problem: Problem = {
    name,
    domain: "",
    requirements: [],
    objects: [],
    init: [],
    values: [],
    goal: [],
    minimizeTotalCost: false,
  };
  const typeNames = new Set(["object", ...domain.types.map((t) => t.name)]);
  const scope: Scope = {
    predicates: new Map(domain.predicates.map((p) => [p.name, p])),
    functions: new Map(domain.functions.map((p) => [p.name, p])),
    variables: new Set(),
    constants: new Set(domain.constants.map((c) => c.name)),
    ground: true,
  };
  let goal: SExpr | undefined;
  let sawGoal = false;
  const init: SExpr[] = [];
  for (const s of sections) {
    const key = head(s)!;
    const body = s.items.slice(1);
    if (key === ":domain") {
      problem.domain = atom(body[0], "a domain name", s.pos);
      if (problem.domain !== domain.name)
        throw new PddlError(
          `the problem is for domain '${problem.domain}', not '${domain.name}'`,
          body[0]!.pos,
        );
    } else if (key === ":requirements") problem.requirements.push(...requirements(s));
    else if (key === ":objects") {
      for (const o of typedList(body, s.pos, false)) {
        for (const t of o.types)
          if (!typeNames.has(t)) throw new PddlError(`unknown type '${t}' of ${o.name}`, o.pos);
        problem.objects.push(o);
      }
    } else if (key === ":init") init.push(...body);
    else if (key === ":goal") {
      goal = body[0];
      sawGoal = true;
    } else if (key === ":metric") problem.minimizeTotalCost = metric(s);
    else section(key, s.pos);
  }
  // A problem may list a domain constant again among its objects, with the same type.
  const constants = new Map(domain.constants.map((c) => [c.name, c.types.join(" ")]));
  problem.objects = problem.objects.filter((o) => {
    const type = constants.get(o.name);
    if (type === undefined) return true;
    if (type !== o.types.join(" "))
      throw new PddlError(`object '${o.name}' is a constant of another type`, o.pos);
    return false;
  });
  unique([...domain.constants, ...problem.objects], "object");
  for (const o of problem.objects) scope.constants.add(o.name);
  for (const e of init) {
    const f = list(e, "an initial fact in parentheses", e.pos);
    if (head(f) === "=" && isList(f.items[1])) problem.values.push(functionValue(f, scope));
    else if (head(f) === "not")
      throw new PddlError("the initial state lists only true facts", f.pos);
    else {
      const literal = atomicFormula(f, scope, false);
      if (literal.predicate === "=") throw new PddlError("'=' cannot be an initial fact", f.pos);
      problem.init.push(literal);
    }
  }
  if (!sawGoal || goal === undefined) throw new PddlError("the problem has no (:goal ...)");
  problem.goal = condition(goal, scope);
  return problem;
}

function functionValue(f: SList, scope: Scope): FunctionValue {
  const target = f.items[1] as SList;
  const name = atom(target.items[0], "a function name", target.pos);
  const decl = scope.functions.get(name);
  if (!decl) throw new PddlError(`unknown function '${name}'`, target.pos);
  const args = target.items.slice(1).map((a) => term(a, scope));
  if (args.length !== decl.params.length)
    throw new PddlError(`'${name}' takes ${decl.params.length} argument(s)`, target.pos);
  const raw = atom(f.items[2], "a number", f.pos);
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new PddlError(`'${raw}' is not a number`, f.items[2]!.pos);
  return { name, args, value, pos: f.pos };
}

function metric(s: SList): boolean {
  const direction = atom(s.items[1], "minimize", s.pos);
  const target = s.items[2];
  if (
    direction !== "minimize" ||
    !isList(target) ||
    head(target) !== "total-cost" ||
    target.items.length !== 1
  )
    throw unsupported("(:metric ...) other than minimize (total-cost)", s.pos, ":numeric-fluents");
  return true;
}
