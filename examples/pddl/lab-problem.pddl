(define (problem two-samples)
  (:domain lab)
  (:objects left right - arm s1 s2 - sample store nmr ms - station)
  (:init
    (arm-at left store) (arm-at right store) (free left) (free right)
    (at s1 store) (at s2 store) (analyser nmr) (analyser ms)
    (= (total-cost) 0))
  (:goal (and (analysed s1) (analysed s2) (at s1 store) (at s2 store)))
  (:metric minimize (total-cost)))
