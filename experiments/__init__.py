"""Experiment machinery: turns the model into evidence. Imports :mod:`model`, never the reverse.

One direction of imports, top to bottom (``tests/experiments/test_imports.py`` checks it)::

    cli/, bench, docs         the `escalation` command (one module per command) and its helpers
    analysis/                 estimates (the one table), contrasts, survival, plots, report
    sweep/                    config, design, runner, store, results (pure data), peer
    history/                  scenario (period, scenario_entries), record, replay, calibration, posterior
    errors io seeds provenance stats validation    leaves: import nothing above them
    model/                    the model (imports nothing from experiments/)

A ``[posterior]`` sweep draws its scenarios from the calibration's posterior, so ``sweep``
imports ``history.posterior``; ``history`` needs from below only the replicate seeds.
"""
