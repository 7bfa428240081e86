import type { ActionSchema, Domain, Literal, Problem, TypedName } from "./syntax";

/**
 * PDDL text of a domain as read (or merged from skills): what central sends an external
 * planner. Requirements are those declared plus those the domain uses, so a strict planner
 * accepts it; reading the text back gives the same domain.
 */
export function writeDomain(domain: Domain): string {
  const lines = [`(define (domain ${domain.name})`, `  (:requirements ${requirements(domain)})`];
  if (domain.types.length)
    lines.push(`  (:types ${domain.types.map((t) => `${t.name} - ${t.parent}`).join(" ")})`);
  if (domain.constants.length) lines.push(`  (:constants ${typed(domain.constants)})`);
  lines.push(`  (:predicates ${domain.predicates.map((p) => declaration(p)).join(" ")})`);
  if (domain.functions.length)
    lines.push(
      `  (:functions ${domain.functions.map((f) => `${declaration(f)} - number`).join(" ")})`,
    );
  for (const action of domain.actions) lines.push(writeAction(action));
  lines.push(")");
  return lines.join("\n");
}

/** PDDL text of a problem over `domainName`; reading it back gives the same problem. */
export function writeProblem(problem: Problem, domainName: string): string {
  const init = [
    ...problem.init.map(literal),
    ...problem.values.map((v) => `(= (${[v.name, ...v.args].join(" ")}) ${v.value})`),
  ];
  return [
    `(define (problem ${problem.name})`,
    `  (:domain ${domainName})`,
    ...(problem.objects.length ? [`  (:objects ${typed(problem.objects)})`] : []),
    `  (:init ${init.join(" ")})`,
    `  (:goal ${conjunction(problem.goal)})`,
    ...(problem.minimizeTotalCost ? ["  (:metric minimize (total-cost))"] : []),
    ")",
  ].join("\n");
}

function writeAction(action: ActionSchema): string {
  const effects = action.effect.map(literal);
  if (action.cost) {
    const c = action.cost;
    const amount = c.kind === "number" ? String(c.value) : `(${[c.name, ...c.args].join(" ")})`;
    effects.push(`(increase (total-cost) ${amount})`);
  }
  return [
    `  (:action ${action.name}`,
    `    :parameters (${typed(action.params)})`,
    `    :precondition ${conjunction(action.precondition)}`,
    `    :effect ${effects.length === 1 ? effects[0] : `(and ${effects.join(" ")})`})`,
  ].join("\n");
}

function requirements(domain: Domain): string {
  const out = new Set(domain.requirements);
  const literals = domain.actions.flatMap((a) => a.precondition);
  if (domain.types.length || domain.constants.some((c) => c.types[0] !== "object"))
    out.add(":typing");
  if (literals.some((l) => l.negated && l.predicate !== "=")) out.add(":negative-preconditions");
  if (literals.some((l) => l.predicate === "=")) out.add(":equality");
  if (domain.actions.some((a) => a.cost)) out.add(":action-costs");
  out.add(":strips");
  return [...out].join(" ");
}

function conjunction(literals: readonly Literal[]): string {
  if (literals.length === 1) return literal(literals[0]!);
  return `(and ${literals.map(literal).join(" ")})`;
}

function literal(l: Literal): string {
  const atom = `(${[l.predicate, ...l.args].join(" ")})`;
  return l.negated ? `(not ${atom})` : atom;
}

function declaration(p: { name: string; params: TypedName[] }): string {
  return p.params.length ? `(${p.name} ${typed(p.params)})` : `(${p.name})`;
}

function typed(names: readonly TypedName[]): string {
  return names
    .map(
      (n) => `${n.name} - ${n.types.length === 1 ? n.types[0] : `(either ${n.types.join(" ")})`}`,
    )
    .join(" ");
}
