"""Bounds shared by the API's parameters, so that out-of-range input is a 422, never a 500.

An offset beyond ``MAX_OFFSET`` or a date outside ``[EARLIEST, LATEST]`` cannot name anything
the project keeps; refusing it in the schema keeps it away from the database (where an integer
past 64 bits or a year past 9999 fails) and tells a generated client the range.
"""

from datetime import date

MAX_OFFSET = 1_000_000_000
# Periods asked about (figures, boards, reports): the project's own era.
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
# Facts about people (birth dates): anyone alive.
EARLIEST_BIRTH = date(1900, 1, 1)
