; Two robot arms carry samples from a store to analysers: typing, negative preconditions,
; equality and action costs (moves cost 2, handling 1, an analysis 3).
(define (domain lab)
  (:requirements :strips :typing :negative-preconditions :equality :action-costs)
  (:types arm sample station)
  (:predicates
    (arm-at ?a - arm ?s - station)
    (at ?x - sample ?s - station)
    (holding ?a - arm ?x - sample)
    (free ?a - arm)
    (analyser ?s - station)
    (analysed ?x - sample))
  (:functions (total-cost) - number)
  (:action move
    :parameters (?a - arm ?from ?to - station)
    :precondition (and (arm-at ?a ?from) (not (= ?from ?to)))
    :effect (and (not (arm-at ?a ?from)) (arm-at ?a ?to) (increase (total-cost) 2)))
  (:action pick
    :parameters (?a - arm ?x - sample ?s - station)
    :precondition (and (arm-at ?a ?s) (at ?x ?s) (free ?a))
    :effect (and (holding ?a ?x) (not (at ?x ?s)) (not (free ?a)) (increase (total-cost) 1)))
  (:action place
    :parameters (?a - arm ?x - sample ?s - station)
    :precondition (and (arm-at ?a ?s) (holding ?a ?x))
    :effect (and (at ?x ?s) (free ?a) (not (holding ?a ?x)) (increase (total-cost) 1)))
  (:action analyse
    :parameters (?x - sample ?s - station)
    :precondition (and (at ?x ?s) (analyser ?s) (not (analysed ?x)))
    :effect (and (analysed ?x) (increase (total-cost) 3))))
