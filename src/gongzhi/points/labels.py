"""How a household or person is named where the public can read it (rankings, honour lists).

Never a phone, an ID number, a card code or a full name. The locality chooses (policy
``public_label``):

- ``both`` (default): the door number and the head's masked name, "高城寨村1号 · 张**": a
  household finds its own row and neighbours recognise each other, as on a paper board;
- ``masked_name``: "张**" only;
- ``door``: the door number only.

A person scored in a class (cadres, party members) appears as their masked name.
"""

from __future__ import annotations

from collections.abc import Iterable

from gongzhi.core.privacy import mask_name
from gongzhi.places.models import Household, Person, Place, Relation

from .models import RankingSnapshot, RankingUnit
from .rules import policy_for


def household_labels(household_ids: Iterable[int], policy: dict) -> dict[int, str]:
    ids = list(household_ids)
    mode = policy.get("public_label", "both")
    doors = dict(Household.objects.filter(place_id__in=ids).values_list("place_id", "address"))
    names = dict(Place.objects.filter(pk__in=ids).values_list("pk", "name"))
    heads: dict[int, str] = {}
    others: dict[int, str] = {}
    for place_id, name, relation in (Person.objects.filter(place_id__in=ids, is_active=True)
                                     .order_by("place_id", "id")
                                     .values_list("place_id", "name", "relation")):
        target = heads if relation == Relation.HEAD else others
        target.setdefault(place_id, name)
    labels = {}
    for hid in ids:
        door = doors.get(hid) or names.get(hid, "")
        head = mask_name(heads.get(hid) or others.get(hid, ""))
        if mode == "door" or not head:
            labels[hid] = door
        elif mode == "masked_name":
            labels[hid] = head
        else:
            labels[hid] = f"{door} · {head}"
    return labels


def row_labels(snap: RankingSnapshot, rows) -> dict[int, str]:
    """``{row.pk: public label}`` for rows of ``snap``."""
    rows = list(rows)
    if snap.unit == RankingUnit.HOUSEHOLD:
        labels = household_labels({r.place_id for r in rows}, policy_for(snap.place))
        return {r.pk: labels.get(r.place_id, "") for r in rows}
    if snap.unit == RankingUnit.PERSON:
        from .models import Account

        names = dict(Account.objects.filter(pk__in=[r.account_id for r in rows])
                     .values_list("pk", "person__name"))
        return {r.pk: mask_name(names.get(r.account_id, "")) for r in rows}
    names = dict(Place.objects.filter(pk__in=[r.place_id for r in rows])
                 .values_list("pk", "name"))
    return {r.pk: names.get(r.place_id, "") for r in rows}
