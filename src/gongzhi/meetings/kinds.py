"""The builtin meeting kinds and their rules: who is invited, the quorum, the decision rule.

Each county gets the builtin kinds on first use (:func:`ensure_kinds`) and may change their
rules or add its own (``actions.do_save_kind``). The rules are data on :class:`MeetingKind`:

``quorum``  ``{"num": 2, "den": 3}`` — at least two thirds of those invited sign in;
            ``{"num": 1, "den": 2, "strict": true}`` — *more than* half; ``None`` — no quorum.
``decision`` ``majority_present`` (more than half of those present vote for),
            ``two_thirds_present``, ``majority_members`` (more than half of all invited) or
            ``consensus`` (a recorded consensus decides; a vote, if held, by majority present).

The functions below are pure: the pages, the API, the minutes and the actions all read the
quorum and the outcome of a vote from them.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from gongzhi.places.models import Place

from .models import MeetingKind
from .models import MemberGroup as G

DECISIONS = {
    "majority_present": _("到会人员过半数同意"),
    "two_thirds_present": _("到会人员三分之二以上同意"),
    "majority_members": _("应到人员过半数同意"),
    "consensus": _("协商一致"),
}

# Codes other parts of 议事 rely on (四议两公开 and the sunshine report meetings).
SHUOSHI = "shuoshi"
PARTY_BRANCH = "party_branch"
CONSULTATION = "consultation"
VILLAGER_REPS = "villager_reps"
VILLAGERS = "villagers"
PARTY_MEMBERS = "party_members"
TWO_COMMITTEES = "two_committees"
JOINT_COMMITTEES = "joint_committees"
SUNSHINE = "sunshine"

TWO_THIRDS = {"num": 2, "den": 3}
MORE_THAN_HALF = {"num": 1, "den": 2, "strict": True}

BUILTIN_KINDS: list[dict[str, Any]] = [
    {"code": SHUOSHI, "name": "说事议事会",
     "invitee_groups": [G.PARTY_REPRESENTATIVE, G.VILLAGER_REPRESENTATIVE, G.LEGAL_ADVISER,
                        G.DEPUTIES, G.SAGES, G.RESIDENT_CADRE],
     "quorum": MORE_THAN_HALF, "decision": "majority_present", "allows_consensus": True},
    {"code": CONSULTATION, "name": "协商议事会",
     "invitee_groups": [G.PARTY_REPRESENTATIVE, G.VILLAGER_REPRESENTATIVE, G.STATIONED_UNIT,
                        G.OWNERS_COMMITTEE, G.PROPERTY, G.LEGAL_ADVISER, G.SAGES],
     "quorum": None, "decision": "consensus", "allows_consensus": True},
    # 村民委员会组织法 第二十六条: two thirds of the representatives; majority of those present.
    {"code": VILLAGER_REPS, "name": "村民代表会议",
     "invitee_groups": [G.COMMITTEE, G.VILLAGER_REPRESENTATIVE],
     "quorum": TWO_THIRDS, "decision": "majority_present", "allows_consensus": False},
    # 第二十二条: more than half of the adult villagers, or two thirds of the households'
    # representatives, attend; decisions by a majority of those present. Invite either the
    # adult villagers (group 居民) or the household representatives (group 户代表).
    {"code": VILLAGERS, "name": "村民会议",
     "invitee_groups": [G.HOUSEHOLD_REPRESENTATIVE],
     "quorum": MORE_THAN_HALF, "decision": "majority_present", "allows_consensus": False},
    {"code": PARTY_MEMBERS, "name": "党员大会",
     "invitee_groups": [G.PARTY_MEMBER],
     "quorum": TWO_THIRDS, "decision": "majority_present", "allows_consensus": False},
    {"code": PARTY_BRANCH, "name": "党支部会议",
     "invitee_groups": [G.BRANCH_COMMITTEE],
     "quorum": MORE_THAN_HALF, "decision": "majority_present", "allows_consensus": False},
    {"code": TWO_COMMITTEES, "name": "两委会议",
     "invitee_groups": [G.BRANCH_COMMITTEE, G.COMMITTEE],
     "quorum": MORE_THAN_HALF, "decision": "majority_present", "allows_consensus": True},
    {"code": JOINT_COMMITTEES, "name": "三委联席会议",
     "invitee_groups": [G.BRANCH_COMMITTEE, G.COMMITTEE, G.SUPERVISORY_COMMITTEE],
     "quorum": MORE_THAN_HALF, "decision": "majority_present", "allows_consensus": True},
    {"code": SUNSHINE, "name": "三务三资阳光报告会",
     "invitee_groups": [G.PARTY_REPRESENTATIVE, G.VILLAGER_REPRESENTATIVE,
                        G.SUPERVISORY_COMMITTEE, G.RESIDENT],
     "quorum": None, "decision": "majority_present", "allows_consensus": True},
]
BUILTIN_CODES = {k["code"] for k in BUILTIN_KINDS}


def ensure_kinds(county: Place | int) -> dict[str, MeetingKind]:
    """The county's kinds by code, creating the missing builtin ones (never overwriting a
    locality's changes)."""
    county_id = county if isinstance(county, int) else county.pk
    existing = {k.code: k for k in MeetingKind.objects.filter(county_id=county_id)}
    missing = [k for k in BUILTIN_KINDS if k["code"] not in existing]
    if missing:
        with transaction.atomic():
            for spec in missing:
                kind, _created = MeetingKind.objects.get_or_create(
                    county_id=county_id, code=spec["code"],
                    defaults={"name": spec["name"],
                              "invitee_groups": [str(g) for g in spec["invitee_groups"]],
                              "quorum": spec["quorum"], "decision": spec["decision"],
                              "allows_consensus": spec["allows_consensus"]},
                )
                existing[kind.code] = kind
    return existing


# ---------------------------------------------------------------------------------------------
# The rules (pure)


def clean_quorum(quorum: Any) -> dict[str, Any] | None:
    """A valid quorum rule or None; raises ValueError on a malformed one."""
    if quorum in (None, "", {}):
        return None
    if not isinstance(quorum, dict):
        raise ValueError("quorum")
    num, den = quorum.get("num"), quorum.get("den")
    if not (isinstance(num, int) and isinstance(den, int)) or den <= 0 or not 0 < num <= den:
        raise ValueError("quorum")
    return {"num": num, "den": den, **({"strict": True} if quorum.get("strict") else {})}


def quorum_needed(quorum: dict[str, Any] | None, invited: int) -> int:
    """How many must be present: 0 when the kind has no quorum rule, at least 1 otherwise."""
    if not quorum:
        return 0
    num, den = quorum["num"], quorum["den"]
    # "strict": more than num/den; otherwise at least num/den (the ceiling).
    needed = invited * num // den + 1 if quorum.get("strict") else -(-invited * num // den)
    return max(needed, 1)


def quorum_reached(quorum: dict[str, Any] | None, invited: int, present: int) -> bool:
    return present >= quorum_needed(quorum, invited)


def quorum_label(quorum: dict[str, Any] | None) -> str:
    if not quorum:
        return str(_("不设法定人数"))
    if quorum.get("strict"):
        return str(_("超过应到人员的%(num)d/%(den)d")) % quorum
    return str(_("不少于应到人员的%(num)d/%(den)d")) % quorum


def votes_needed(decision: str, present: int, invited: int) -> int:
    """The fewest votes for that pass a motion under ``decision``."""
    if decision == "two_thirds_present":
        return -(-present * 2 // 3)
    if decision == "majority_members":
        return invited // 2 + 1
    return present // 2 + 1  # majority_present, and a vote held under "consensus"


def vote_passes(decision: str, votes_for: int, present: int, invited: int) -> bool:
    return votes_for >= max(votes_needed(decision, present, invited), 1)


def allows_consensus(kind: MeetingKind) -> bool:
    return kind.allows_consensus or kind.decision == "consensus"
