; From the start to the exit of the maze in seed/maze (waypoints.tsv, corridors.tsv): the
; corridors both ways with their lengths; the shortest route is start d e f exit (8 m).
(define (problem start-to-exit)
  (:domain maze-navigation)
  (:objects start a b c d e f exit - location)
  (:init
    (robot-at start) (visited start)
    (connected start a) (connected a start) (= (corridor-length start a) 2) (= (corridor-length a start) 2)
    (connected a b) (connected b a) (= (corridor-length a b) 2) (= (corridor-length b a) 2)
    (connected b c) (connected c b) (= (corridor-length b c) 3) (= (corridor-length c b) 3)
    (connected c exit) (connected exit c) (= (corridor-length c exit) 2) (= (corridor-length exit c) 2)
    (connected start d) (connected d start) (= (corridor-length start d) 2) (= (corridor-length d start) 2)
    (connected d e) (connected e d) (= (corridor-length d e) 2) (= (corridor-length e d) 2)
    (connected e f) (connected f e) (= (corridor-length e f) 2) (= (corridor-length f e) 2)
    (connected f exit) (connected exit f) (= (corridor-length f exit) 2) (= (corridor-length exit f) 2)
    (connected a e) (connected e a) (= (corridor-length a e) 3) (= (corridor-length e a) 3)
    (= (total-cost) 0))
  (:goal (robot-at exit))
  (:metric minimize (total-cost)))
