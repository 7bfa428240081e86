; The workcell in seed/workcell: blue sits on red on pad1, green on pad2, pad3 is free. Goal:
; red on green and blue on pad3 (red must come out from under blue first). pad4 is out of reach,
; the glass on it fragile.
(define (problem restack)
  (:domain ar4-manipulation)
  (:objects red green blue glass - block pad1 pad2 pad3 pad4 - pad)
  (:init
    (hand-empty)
    (on red pad1) (on blue red) (on green pad2) (on glass pad4)
    (clear blue) (clear green) (clear pad3) (clear glass)
    (reachable pad1) (reachable pad2) (reachable pad3)
    (reachable red) (reachable green) (reachable blue)
    (fragile glass))
  (:goal (and (on red green) (on blue pad3))))
