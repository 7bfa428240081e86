; The place skill's action: the AR4 sets the block it holds on a clear surface within its reach;
; nothing goes on a fragile one. Shared declarations agree with the pick skill's domain.
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
  (:action place
    :parameters (?b - block ?to - surface)
    :precondition (and (holding ?b) (clear ?to) (reachable ?to)
                       (not (fragile ?to)) (not (= ?b ?to)))
    :effect (and (on ?b ?to) (clear ?b) (hand-empty)
                 (not (holding ?b)) (not (clear ?to)))))
