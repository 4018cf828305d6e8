"""The interactive explorer: ``escalation app`` serves two pages on 127.0.0.1.

* ``/`` -- one run of the model (:mod:`experiments.app.run`);
* ``/sweep`` -- a stored sweep (:mod:`experiments.app.sweep`): estimates with their intervals,
  read from a results directory, never re-run.

:mod:`experiments.app.serve` is the command; :mod:`experiments.app.pages` the Solara app it runs.
"""
