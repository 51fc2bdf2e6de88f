"""一季一评议: computing a ranking snapshot from the ledger, in the database.

One ``INSERT ... SELECT`` per snapshot: the quarter's earned postings under the scope are
summed by the unit's place column (``GROUP BY household_id``, ``grid_id`` ...), joined to every
active unit under the scope (so a household with no points ranks with 0), ranked with
``RANK()`` (1, 2, 2, 4) and written as :class:`~gongzhi.points.models.RankingRow` rows. Nothing
is loaded into Python, so a county of a million households ranks in seconds (see
``bench/points_redeem.py``). The SQL is plain enough for SQLite and PostgreSQL alike.

Only identifiers (quoted table and column names from the models) are formatted into the SQL;
every value is a query parameter (hence the ``noqa: S608``).

Households and people rank by their total. Grids, villages and towns rank by the average per
active household (so a large village does not win by size), then by total.
"""

from __future__ import annotations

from datetime import date

from django.db import connection

from gongzhi.places.models import LEVELS, Place

from .models import Account, AccountKind, Posting, RankingRow, RankingSnapshot, RankingUnit

PLACE_UNITS = (RankingUnit.GRID, RankingUnit.VILLAGE, RankingUnit.TOWN)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _scope(place: Place) -> tuple[str, list]:
    """The WHERE of postings under ``place``: county first so the ranking index leads."""
    county_id = place.pk if place.kind == "county" else place.county_id
    if place.kind == "county":
        return f"p.{_q('county_id')} = %s", [county_id]
    return f"p.{_q('county_id')} = %s AND p.{_q(place.kind + '_id')} = %s", [county_id, place.pk]


def fill_rows(snapshot: RankingSnapshot, start: date, end: date) -> int:
    """Compute and insert the snapshot's rows; returns how many."""
    place = snapshot.place
    if snapshot.unit in PLACE_UNITS or snapshot.unit == RankingUnit.HOUSEHOLD:
        sql, params = _household_sql(snapshot, place, start, end)
    else:
        sql, params = _person_sql(snapshot, place, start, end)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    return RankingRow.objects.filter(snapshot=snapshot).count()


def _household_sql(snapshot: RankingSnapshot, place: Place, start: date, end: date):
    rows, places, postings = (_q(RankingRow._meta.db_table), _q(Place._meta.db_table),
                              _q(Posting._meta.db_table))
    unit = snapshot.unit
    where, where_params = _scope(place)
    scope_col = _q(f"{place.kind}_id")
    earned = (f"SELECT p.{_q(unit + '_id')} AS uid, SUM(p.{_q('amount')}) AS total "  # noqa: S608
              f"FROM {postings} p WHERE {where} AND p.{_q('account_kind')} = %s "
              f"AND p.{_q('is_earned')} = %s AND p.{_q('posted_on')} >= %s "
              f"AND p.{_q('posted_on')} <= %s GROUP BY p.{_q(unit + '_id')}")
    earned_params = [*where_params, AccountKind.HOUSEHOLD, True, start, end]
    cols = (f"{_q('snapshot_id')}, {_q('rank')}, {_q('place_id')}, {_q('account_id')}, "
            f"{_q('total')}, {_q('households')}, {_q('average')}")
    if unit == RankingUnit.HOUSEHOLD:
        sql = (
            f"INSERT INTO {rows} ({cols}) "  # noqa: S608
            f"SELECT %s, RANK() OVER (ORDER BY COALESCE(t.total, 0) DESC), h.{_q('id')}, NULL, "
            f"COALESCE(t.total, 0), 1, COALESCE(t.total, 0) "
            f"FROM {places} h LEFT JOIN ({earned}) t ON t.uid = h.{_q('id')} "
            f"WHERE h.{_q('kind')} = %s AND h.{scope_col} = %s AND h.{_q('is_active')} = %s"
        )
        return sql, [snapshot.pk, *earned_params, "household", place.pk, True]
    counts = (f"SELECT h.{_q(unit + '_id')} AS uid, COUNT(*) AS n FROM {places} h "  # noqa: S608
              f"WHERE h.{_q('kind')} = %s AND h.{scope_col} = %s AND h.{_q('is_active')} = %s "
              f"GROUP BY h.{_q(unit + '_id')}")
    avg = ("CASE WHEN COALESCE(c.n, 0) = 0 THEN 0 ELSE "
           "CAST(COALESCE(t.total, 0) AS DOUBLE PRECISION) / c.n END")
    sql = (
        f"INSERT INTO {rows} ({cols}) "  # noqa: S608
        f"SELECT %s, RANK() OVER (ORDER BY x.avg DESC, x.total DESC), x.uid, NULL, x.total, "
        f"x.n, x.avg FROM (SELECT u.{_q('id')} AS uid, COALESCE(t.total, 0) AS total, "
        f"COALESCE(c.n, 0) AS n, {avg} AS avg "
        f"FROM {places} u LEFT JOIN ({earned}) t ON t.uid = u.{_q('id')} "
        f"LEFT JOIN ({counts}) c ON c.uid = u.{_q('id')} "
        f"WHERE u.{_q('kind')} = %s AND u.{scope_col} = %s AND u.{_q('is_active')} = %s) x"
    )
    return sql, [snapshot.pk, *earned_params, "household", place.pk, True, unit, place.pk, True]


def _person_sql(snapshot: RankingSnapshot, place: Place, start: date, end: date):
    rows, accounts, postings = (_q(RankingRow._meta.db_table), _q(Account._meta.db_table),
                                _q(Posting._meta.db_table))
    where, where_params = _scope(place)
    scope_col = _q(f"{place.kind}_id")
    earned = (f"SELECT p.{_q('account_id')} AS aid, SUM(p.{_q('amount')}) AS total "  # noqa: S608
              f"FROM {postings} p WHERE {where} AND p.{_q('account_kind')} = %s "
              f"AND p.{_q('is_earned')} = %s AND p.{_q('posted_on')} >= %s "
              f"AND p.{_q('posted_on')} <= %s GROUP BY p.{_q('account_id')}")
    cols = (f"{_q('snapshot_id')}, {_q('rank')}, {_q('place_id')}, {_q('account_id')}, "
            f"{_q('total')}, {_q('households')}, {_q('average')}")
    sql = (
        f"INSERT INTO {rows} ({cols}) "  # noqa: S608
        f"SELECT %s, RANK() OVER (ORDER BY COALESCE(t.total, 0) DESC), a.{_q('place_id')}, "
        f"a.{_q('id')}, COALESCE(t.total, 0), 1, COALESCE(t.total, 0) "
        f"FROM {accounts} a LEFT JOIN ({earned}) t ON t.aid = a.{_q('id')} "
        f"WHERE a.{_q('kind')} = %s AND a.{_q('klass')} = %s AND a.{scope_col} = %s"
    )
    params = [snapshot.pk, *where_params, AccountKind.PERSON, True, start, end,
              AccountKind.PERSON, snapshot.klass, place.pk]
    return sql, params


def unit_allowed(place: Place, unit: str) -> bool:
    if unit in (RankingUnit.HOUSEHOLD, RankingUnit.PERSON):
        return place.kind in ("county", "town", "village", "grid")
    return LEVELS.index(unit) > LEVELS.index(place.kind)
