; The pick skill's action: the AR4 takes a clear block off a surface (a pad on the table, or
; another block) within its reach. Shared declarations agree with the place skill's domain.
(define (domain ar4-manipulation)
  (:requirements :strips :typing :negative-preconditions :equality)
  (:types surface - object block pad - surface)
  (:predicates
    (on ?b - block ?s - surface)
    (clear ?s - surface)
    (holding ?b - block)
    (hand-empty)
    (reachable ?s - surface)
    (fragile ?s - surface))
  (:action pick
    :parameters (?b - block ?from - surface)
    :precondition (and (hand-empty) (on ?b ?from) (clear ?b) (reachable ?from))
    :effect (and (holding ?b) (clear ?from)
                 (not (hand-empty)) (not (on ?b ?from)) (not (clear ?b)))))
