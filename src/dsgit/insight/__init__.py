"""Insight into live data: ``dsgit scan`` figures, ``dsgit schema infer`` and ``dsgit report``.

The figures (:mod:`~dsgit.insight.figures`) are pure accumulators fed one live entry at a
time, so a scan keeps memory flat in the number of keys; statistics
(:mod:`~dsgit.insight.stats`), PII detectors (:mod:`~dsgit.insight.pii`), schema inference
(:mod:`~dsgit.insight.infer`) and the HTML report (:mod:`~dsgit.insight.html`) do no I/O.
:mod:`~dsgit.insight.scan` is the use case that feeds them from the live scan.
"""
