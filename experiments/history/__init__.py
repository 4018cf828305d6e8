"""The model against history: scenarios of levers by date (:mod:`.scenario`), the observed
record (:mod:`.record`), replays scored against it with the stylised facts (:mod:`.replay`),
ABC-SMC calibration (:mod:`.abc`) and the posterior it leaves, which policy sweeps
draw from (:mod:`.posterior`), and out-of-sample validation against baselines
(:mod:`.validate`, :mod:`.baselines`).

Imports only the leaves (errors, io, seeds, provenance, stats) and :mod:`model`: never
:mod:`experiments.sweep` or :mod:`experiments.analysis`.
"""
