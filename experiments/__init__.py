"""Experiment machinery: turns the model into evidence (sweeps, statistics, figures, history).

Imports :mod:`model`, never the reverse.
"""
