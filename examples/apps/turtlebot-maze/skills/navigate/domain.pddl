; The navigate skill's action: drive the robot along one corridor between two waypoints of the
; maze (one Nav2 NavigateToPose goal). A move costs the corridor's length in metres.
(define (domain maze-navigation)
  (:requirements :strips :typing :negative-preconditions :equality :action-costs)
  (:types location)
  (:predicates
    (robot-at ?l - location)
    (connected ?from ?to - location)
    (blocked ?from ?to - location)
    (visited ?l - location))
  (:functions
    (total-cost) - number
    (corridor-length ?from ?to - location) - number)
  (:action move
    :parameters (?from ?to - location)
    :precondition (and (robot-at ?from) (connected ?from ?to) (not (blocked ?from ?to))
                       (not (= ?from ?to)))
    :effect (and (not (robot-at ?from)) (robot-at ?to) (visited ?to)
                 (increase (total-cost) (corridor-length ?from ?to)))))
