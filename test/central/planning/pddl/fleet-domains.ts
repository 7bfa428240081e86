/** Two skills' PDDL domains that share a vocabulary: an arm that carries samples, a scanner. */
export const ARM = `(define (domain arm) (:requirements :strips :typing)
  (:types sample station)
  (:predicates (at ?s - sample ?t - station) (scanned ?s - sample))
  (:action carry :parameters (?s - sample ?from ?to - station)
    :precondition (at ?s ?from) :effect (and (not (at ?s ?from)) (at ?s ?to))))`;

export const SCANNER = `(define (domain scanner) (:requirements :strips :typing)
  (:types sample station)
  (:constants scan-bay - station)
  (:predicates (at ?s - sample ?t - station) (scanned ?s - sample))
  (:action scan :parameters (?s - sample)
    :precondition (at ?s scan-bay) :effect (scanned ?s)))`;

/** A skill of `app` that declares `pddl`, as an agent registers it. */
export const pddlSkill = (name: string, app: string, pddl: string) => ({
  name,
  description: `${name} skill`,
  app,
  tools: [],
  version: "1.0.0",
  pddl,
});
