"""Figures summed ahead: the rollups that let :func:`~.compute.compute` answer a county of ten
million matters in milliseconds (``docs/adr/0006-figure-rollups.md``).

**What is kept.** Each matter contributes to rows of :class:`~.models.MatterRollup` and
:class:`~.models.RatingRollup`, one per level of its place (county, town, village, grid) and
per slice (all matters, and — for county, town and village — its ledger, channel, category and
department), keyed by local months:

- ``MatterRollup(month, event_month)``: the matter was received in ``month``; in
  ``event_month`` it was received, closed (on time, with its handling days), answered in time,
  invited to be rated, sent back by a rating. The cohort of [m1, m2) and what became of it by
  m2 is the sum over ``month`` in [m1, m2) and ``event_month`` < m2 — exactly the cohort rule
  of ``docs/figures.md``.
- ``RatingRollup(month, next_month)``: the matter's last reporter rating (and, separately, its
  last answered return visit) in ``month``, and the month of its next one. A matter's voice in
  [m1, m2) is its last there: ``month`` in [m1, m2) and ``next_month`` >= m2.

**How it stays current.** A matter's contribution is a function of its row, its clock, its
evaluation requests, ratings and return visits (:func:`contribution`). Around every save of a
matter (touching a field that counts), an evaluation request, a rating or a return visit, the
receivers below compute the matter's contribution before (``pre_save``) and after
(``post_save``) and apply the difference with **one upsert statement per rollup**
(``INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n``, the same on SQLite and
PostgreSQL), inside the action's transaction. Writes in bulk (``bulk_create``, ``update``)
pass no signal: whoever writes that way runs ``gongzhi figures rebuild-rollups`` (as the
demo loader and the benchmark do) or writes the rows themselves.

**When it is used.** :func:`answerable` — the period runs from a local month's start to a
local month's start, there are no filters, and the breakdown is none, a place level, ledger,
channel, category, department or month/quarter/year. Otherwise the figure sets count the raw
rows; both give the same numbers (``figures/tests/test_rollups.py``).

Handling days are counted on the official calendar when a matter closes; a later change of
the calendar's overrides is picked up by a rebuild.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery, Sum
from django.utils import timezone

from gongzhi.core.calendar import working_days_between
from gongzhi.evaluation.models import (
    Evaluation,
    EvaluationRequest,
    EvaluatorKind,
    Outcome,
    Resolved,
    ReturnVisit,
)
from gongzhi.matters.models import Matter

from .models import MatterRollup, RatingRollup
from .registry import ALL, PLACE_DIMENSIONS, Query
from .workdays import workday_ordinals

NEVER = dt.date(9999, 12, 1)  # next_month of a matter's last rating
LEVELS = ("county", "town", "village", "grid")
SLICES = ("ledger", "channel", "category", "department")
SLICE_FIELDS = {"ledger": "ledger", "channel": "channel", "category": "category_id",
                "department": "responsible_org_id"}
# A save of a matter that touches none of these changes no figure kept here.
WATCHED_FIELDS = frozenset({
    "place", "county", "town", "village", "grid", "created_at", "ledger", "channel",
    "category", "responsible_org", "merged_into", "is_closed", "closed_at", "accepted_at",
    "outcome", "stage", "stage_entered_at", "stage_deadline",
})
MATTER_VALUES = ("county_id", "town_id", "village_id", "grid_id", "ledger", "channel",
                 "category_id", "responsible_org_id", "created_at", "is_closed", "closed_at",
                 "accepted_at", "outcome", "merged_into_id", "clock__from_start",
                 "clock__late_handling_visits", "clock__response_late")

Key = tuple  # (model, level, county, town, village, grid, dimension, value, month, second)
Rows = dict[Key, dict[str, int]]


def month_of(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date().replace(day=1)


# ---------------------------------------------------------------------------------------------
# A matter's contribution


def matter_rows(pks: Iterable[int]):
    """The matter facts :func:`contribution` needs, for many matters at once (one query)."""
    first_request = EvaluationRequest.objects.filter(matter=OuterRef("pk")).order_by(
        "created_at").values("created_at")[:1]
    first_reopen = Evaluation.objects.filter(matter=OuterRef("pk"), reopened=True).order_by(
        "at").values("at")[:1]
    return Matter.objects.filter(pk__in=pks).annotate(
        invited_at=Subquery(first_request), reopened_at=Subquery(first_reopen),
    ).values("pk", *MATTER_VALUES, "invited_at", "reopened_at")


def voices(pks: Iterable[int]) -> tuple[dict[int, list], dict[int, list]]:
    """Reporter ratings and answered return visits per matter, in order (two queries)."""
    ratings: dict[int, list] = defaultdict(list)
    for m, at, outcome in Evaluation.objects.filter(
            matter_id__in=pks, kind=EvaluatorKind.REPORTER).order_by(
            "matter_id", "at", "pk").values_list("matter_id", "at", "outcome"):
        ratings[m].append((at, outcome))
    calls: dict[int, list] = defaultdict(list)
    for m, at, resolved in ReturnVisit.objects.filter(
            matter_id__in=pks, reached=True, resolved__in=Resolved.values).order_by(
            "matter_id", "at", "pk").values_list("matter_id", "at", "resolved"):
        calls[m].append((at, resolved))
    return ratings, calls


RATING_COLUMNS = {Outcome.SATISFIED: ("satisfied", "answered"),
                  Outcome.BASIC: ("basic", "answered"),
                  Outcome.DISSATISFIED: ("dissatisfied", "answered"),
                  Outcome.NO_ANSWER: ("no_answer",)}
CALL_COLUMNS = {Resolved.YES: ("solved", "reached"), Resolved.PARTLY: ("partly_solved", "reached"),
                Resolved.NO: ("unsolved", "reached")}


def _last_per_month(events: list, columns: Mapping) -> list[tuple[dt.date, dt.date, tuple]]:
    """(month, next month with an event or NEVER, columns of the month's last event)."""
    last: dict[dt.date, Any] = {}
    for at, answer in events:  # in order: the later one wins
        last[month_of(at)] = answer
    months = sorted(last)
    out = []
    for i, month in enumerate(months):
        cols = columns.get(last[month])
        if cols:
            out.append((month, months[i + 1] if i + 1 < len(months) else NEVER, cols))
    return out


def _working_days(accepted: dt.datetime, closed: dt.datetime,
                  ordinals: Mapping[dt.date, int] | None) -> int:
    """As :func:`gongzhi.core.calendar.working_days_between` counts them."""
    a, b = timezone.localtime(accepted).date(), timezone.localtime(closed).date()
    if ordinals is not None and a in ordinals and b in ordinals:
        return max(0, ordinals[b] - ordinals[a])
    return int(working_days_between(accepted, closed))


def contribution(row: Mapping[str, Any], ratings: list, calls: list,
                 ordinals: Mapping[dt.date, int] | None = None) -> Rows:
    """What one matter adds to the rollups: {key: {count: n}} (empty when merged).
    ``ordinals`` (from :func:`~.workdays.workday_ordinals`) saves reading the calendar per
    matter when many are counted at once."""
    if row["merged_into_id"] is not None:
        return {}
    received = month_of(row["created_at"])
    events: list[tuple[dt.date, str, int]] = [(received, "received", 1)]
    if row["is_closed"] and row["closed_at"] is not None:
        closed = month_of(row["closed_at"])
        events.append((closed, "closed", 1))
        if row["clock__from_start"] and row["clock__late_handling_visits"] == 0:
            events.append((closed, "closed_on_time", 1))
        if row["accepted_at"] is not None and row["outcome"]:
            events.append((closed, "handled", 1))
            days = _working_days(row["accepted_at"], row["closed_at"], ordinals)
            if days:
                events.append((closed, "handling_days", days))
    if row["accepted_at"] is not None and row["clock__response_late"] is False:
        events.append((month_of(row["accepted_at"]), "responded_in_time", 1))
    if row["invited_at"] is not None:
        invited = month_of(row["invited_at"])
        events.append((invited, "reached_evaluation", 1))
        if row["reopened_at"] is not None:
            events.append((max(invited, month_of(row["reopened_at"])), "reopened", 1))
    said = [*_last_per_month(ratings, RATING_COLUMNS), *_last_per_month(calls, CALL_COLUMNS)]

    out: Rows = {}
    places = [row["county_id"], row["town_id"] or 0, row["village_id"] or 0, row["grid_id"] or 0]
    for depth, level in enumerate(LEVELS):
        if not places[depth]:
            continue
        place = (level, *places[:depth + 1], *[0] * (3 - depth))
        slices = [("", "")]
        if level != "grid":
            slices += [(d, _slice_value(row[SLICE_FIELDS[d]])) for d in SLICES]
        for dimension, value in slices:
            for when, name, n in events:
                counts = out.setdefault((MatterRollup, *place, dimension, value, received, when),
                                        {})
                counts[name] = counts.get(name, 0) + n
            for month, nxt, cols in said:
                counts = out.setdefault((RatingRollup, *place, dimension, value, month, nxt), {})
                for name in cols:
                    counts[name] = counts.get(name, 0) + 1
    return out


def _slice_value(value) -> str:
    return "" if value is None else str(value)


def contributions(pks: list[int]) -> Rows:
    """The summed contribution of the matters ``pks`` (three queries)."""
    rows = list(matter_rows(pks))
    ratings, calls = voices([r["pk"] for r in rows])
    days = [timezone.localtime(r[f]).date() for r in rows if r["is_closed"]
            and r["accepted_at"] and r["closed_at"] for f in ("accepted_at", "closed_at")]
    ordinals = workday_ordinals(min(days), max(days)) if len(rows) > 1 and days else None
    total: Rows = {}
    for row in rows:
        add(total, contribution(row, ratings.get(row["pk"], []), calls.get(row["pk"], []),
                                ordinals))
    return total


def add(into: Rows, rows: Rows, sign: int = 1) -> Rows:
    for key, counts in rows.items():
        target = into.setdefault(key, {})
        for name, n in counts.items():
            target[name] = target.get(name, 0) + sign * n
    return into


# ---------------------------------------------------------------------------------------------
# Writing: one upsert per rollup table


def apply(delta: Rows) -> None:
    """Add ``delta`` to the rollups: one ``INSERT ... ON CONFLICT DO UPDATE`` per table."""
    by_model: dict[type, list] = defaultdict(list)
    for key, counts in delta.items():
        if any(counts.values()):
            by_model[key[0]].append((key[1:], counts))
    for model, rows in by_model.items():
        _upsert(model, rows)


def _upsert(model, rows: list[tuple[tuple, dict[str, int]]]) -> None:
    second = "event_month" if model is MatterRollup else "next_month"
    keys = ["level", "county_id", "town_id", "village_id", "grid_id", "dimension", "value",
            "month", second]
    counts = list(model.COUNTS)
    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in [*keys, *counts])
    one = "(" + ", ".join(["%s"] * (len(keys) + len(counts))) + ")"
    update = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in counts)
    date = connection.ops.adapt_datefield_value
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 500):
            chunk = rows[start:start + 500]
            params: list = []
            for key, values in chunk:
                params += [*key[:7], date(key[7]), date(key[8]),
                           *(values.get(c, 0) for c in counts)]
            # Names come from the model; values are parameters.
            values = ", ".join([one] * len(chunk))
            sql = f"INSERT INTO {table} ({cols}) VALUES {values} "  # noqa: S608
            sql += f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {update}"
            cursor.execute(sql, params)


# ---------------------------------------------------------------------------------------------
# Keeping current: receivers (connected in apps.py, after the clock's)


def _before(pk: int | None) -> Rows | None:
    return contributions([pk]) if pk else None


def on_matter_pre_save(sender, instance: Matter, raw: bool = False, update_fields=None,
                       **kwargs) -> None:
    instance._rollup_before = None
    if raw or instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and not WATCHED_FIELDS & set(update_fields):
        instance._rollup_skip = True
        return
    instance._rollup_skip = False
    instance._rollup_before = contributions([instance.pk])


def on_matter_post_save(sender, instance: Matter, created: bool = False, raw: bool = False,
                        **kwargs) -> None:
    if raw or getattr(instance, "_rollup_skip", False):
        return
    _move(instance.pk, getattr(instance, "_rollup_before", None) or {})
    instance._rollup_before = None


# What of an evaluation request, a rating or a return visit counts here.
VOICE_FIELDS = frozenset({"matter", "created_at", "kind", "at", "outcome", "reopened",
                          "reached", "resolved"})


def on_voice_pre_save(sender, instance, raw: bool = False, update_fields=None,
                      **kwargs) -> None:
    instance._rollup_skip = raw or (update_fields is not None
                                    and not VOICE_FIELDS & set(update_fields))
    instance._rollup_before = None if instance._rollup_skip else contributions(
        [instance.matter_id])


def on_voice_post_save(sender, instance, raw: bool = False, **kwargs) -> None:
    if raw or getattr(instance, "_rollup_skip", False):
        return
    _move(instance.matter_id, getattr(instance, "_rollup_before", None) or {})
    instance._rollup_before = None


def _move(pk: int, before: Rows) -> None:
    delta = add(add({}, contributions([pk])), before, -1)
    apply(delta)


# ---------------------------------------------------------------------------------------------
# Rebuilding


def rebuild(county_id: int, *, batch: int = 5000) -> dict[str, int]:
    """Recompute the rollups of one county from the matters, idempotently: its rows are
    deleted and written again in one transaction. Returns the rows written per table."""
    with transaction.atomic():
        MatterRollup.objects.filter(county_id=county_id).delete()
        RatingRollup.objects.filter(county_id=county_id).delete()
        pks = Matter.objects.filter(county_id=county_id).order_by("pk").values_list(
            "pk", flat=True)
        written = {"matter_rows": 0, "rating_rows": 0}
        total: Rows = {}
        chunk: list[int] = []
        for pk in pks.iterator(chunk_size=batch):
            chunk.append(pk)
            if len(chunk) >= batch:
                add(total, contributions(chunk))
                chunk = []
        if chunk:
            add(total, contributions(chunk))
        apply(total)
        for key in total:
            written["matter_rows" if key[0] is MatterRollup else "rating_rows"] += 1
    return written


# ---------------------------------------------------------------------------------------------
# Reading: what compute() asks


def month_start(moment: dt.datetime) -> dt.date | None:
    """The local month that starts exactly at ``moment``, else None."""
    local = timezone.localtime(moment)
    if local.day == 1 and local.time() == dt.time.min:
        return local.date()
    return None


def answerable(q: Query) -> bool:
    """Whether the rollups answer ``q``: whole local months, no filters, a kept breakdown."""
    if q.filters or q.scope.kind not in LEVELS:
        return False
    if month_start(q.start) is None or month_start(q.end) is None:
        return False
    if q.group is None or q.group in SLICES:
        return q.group is None or q.scope.kind != "grid"
    return q.group in PLACE_DIMENSIONS and LEVELS.index(q.group) > LEVELS.index(q.scope.kind)


def read(model, q: Query, names: tuple[str, ...]) -> dict[Any, dict[str, int]]:
    """The counts ``names`` of ``model`` for ``q`` (which :func:`answerable` accepts): one
    query. Rows of a place level are the child rows; matters above that level (raised at the
    town itself) make the row None: the scope's total less its children."""
    m1, m2 = month_start(q.start), month_start(q.end)
    period = Q(month__gte=m1, month__lt=m2)
    period &= Q(event_month__lt=m2) if model is MatterRollup else Q(next_month__gte=m2)
    scope = Q(**{f"{q.scope.kind}_id": q.scope.pk})
    sums = {f"n_{n}": Sum(n) for n in names}

    def counts(row) -> dict[str, int]:
        return {n: row[f"n_{n}"] or 0 for n in names}

    if q.group is None:
        row = model.objects.filter(scope, period, level=q.scope.kind, dimension="").aggregate(
            **sums)
        return {ALL: counts(row)}
    if q.group in SLICES:
        rows = model.objects.filter(scope, period, level=q.scope.kind,
                                    dimension=q.group).order_by().values("value").annotate(**sums)
        out: dict[Any, dict[str, int]] = {}
        for row in rows:
            if any(counts(row).values()):  # a slice every matter has left
                out[_slice_key(q.group, row["value"])] = counts(row)
        return out
    column = f"{q.group}_id"
    rows = model.objects.filter(scope, period, level__in=[q.scope.kind, q.group],
                                dimension="").order_by().values("level", column).annotate(**sums)
    out = {}
    whole = dict.fromkeys(names, 0)
    for row in rows:
        if row["level"] == q.scope.kind:
            whole = counts(row)
        elif any(counts(row).values()):
            out[row[column]] = counts(row)
    rest = {n: whole[n] - sum(c[n] for c in out.values()) for n in names}
    if any(rest.values()):
        out[None] = rest
    return out


def _slice_key(dimension: str, value: str):
    if value == "":
        return None
    return int(value) if dimension in ("category", "department") else value


def read_periods(set_key: str, whole: Query, buckets: list[Query],
                 names: tuple[str, ...]) -> list[dict[str, int]]:
    """The ungrouped counts of each of ``buckets`` (consecutive whole months covering
    ``whole``), in one query: the rows of the whole period by (month, second month), summed
    per bucket in Python."""
    model = MatterRollup if set_key in ("matters", "handling_time") else RatingRollup
    second = "event_month" if model is MatterRollup else "next_month"
    m1, m2 = month_start(whole.start), month_start(whole.end)
    rows = list(model.objects.filter(
        Q(**{f"{whole.scope.kind}_id": whole.scope.pk}), level=whole.scope.kind, dimension="",
        month__gte=m1, month__lt=m2,
    ).order_by().values("month", second).annotate(**{f"n_{n}": Sum(n) for n in names}))
    out = []
    for q in buckets:
        b1, b2 = month_start(q.start), month_start(q.end)
        counts = dict.fromkeys(names, 0)
        for row in rows:
            if not b1 <= row["month"] < b2:
                continue
            if (row[second] < b2) if model is MatterRollup else (row[second] >= b2):
                for n in names:
                    counts[n] += row[f"n_{n}"] or 0
        out.append(counts)
    return out


def matters_from_rollups(q: Query, names: tuple[str, ...]) -> dict[Any, dict[str, int]]:
    return read(MatterRollup, q, names)


def voices_from_rollups(q: Query, names: tuple[str, ...]) -> dict[Any, dict[str, int]]:
    return read(RatingRollup, q, names)
