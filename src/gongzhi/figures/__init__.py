"""The figures every report quotes (办结率, 满意率 ...), each defined once.

``compute`` answers them for a place, a period and a breakdown; ``rank`` turns a breakdown into
a league table. The definitions are written in the docstrings of :mod:`.sets` and in
``docs/figures.md``.
"""
