"""An activity from publication to hours to points, over HTTP: sign up, check in and out with
the organiser's code inside the time window, finish, correct, confirm — and the points appear
in the household's account through the rule book, once only."""

from __future__ import annotations

import datetime as dt

from gongzhi.audit.models import AuditEvent
from gongzhi.points.models import Claim, ClaimStatus, Transaction

from .conftest import add_resident, at, new_activity, on


def test_publication_to_hours_to_points(village, api):
    activity = new_activity(api, village, slots=5)
    aid = activity["id"]
    code = activity["code"]
    assert activity["status"] == "published" and len(code) == 6
    resident, resident2 = api("resident"), api(village.resident2)
    cadre = api("village_cadre")

    with on(at(8, 0, dt.date(2025, 3, 12))):
        # A resident sees the activity near them, without the code, and signs up.
        listed = resident.get("/volunteers/activities").json()
        assert [a["id"] for a in listed["items"]] == [aid]
        assert listed["items"][0]["code"] is None
        r = resident.post(f"/volunteers/activities/{aid}/signup")
        assert r.status_code == 201, r.content
        assert r.json()["household_id"] == village.household.pk
        assert resident.post(f"/volunteers/activities/{aid}/signup").status_code == 400
        assert resident2.post(f"/volunteers/activities/{aid}/signup").status_code == 201
        assert resident.get(f"/volunteers/activities/{aid}").json()["taken"] == 2
        # A resident of another town does not see it at all.
        outsider = api(add_resident(village, village.other_household, "u_outsider"))
        assert outsider.get(f"/volunteers/activities/{aid}").status_code == 404
        assert outsider.post(f"/volunteers/activities/{aid}/signup").status_code == 404

    # Check-in opens 30 minutes before the start.
    with on(at(8, 10)):
        r = resident.post(f"/volunteers/activities/{aid}/check-in", {"code": code})
        assert r.status_code == 400 and "签到时间" in r.json()["detail"]
    with on(at(8, 45)):
        r = resident.post(f"/volunteers/activities/{aid}/check-in", {"code": "000000"
                                                                    if code != "000000"
                                                                    else "111111"})
        assert r.status_code == 400 and "签到码" in r.json()["detail"]
        r = resident.post(f"/volunteers/activities/{aid}/check-in", {"code": code})
        assert r.status_code == 200, r.content
        assert resident.post(f"/volunteers/activities/{aid}/check-in",
                             {"code": code}).status_code == 400
    with on(at(9, 30)):
        assert resident2.post(f"/volunteers/activities/{aid}/check-in",
                              {"code": code}).status_code == 200
        assert resident.get(f"/volunteers/activities/{aid}").json()["status"] == "ongoing"
    with on(at(12, 20)):
        # Checked in before the start: counted from the start; capped at the 3 hours.
        r = resident.post(f"/volunteers/activities/{aid}/check-out", {"code": code})
        assert r.status_code == 200, r.content
        assert r.json()["minutes"] == 180
    with on(at(13, 30)):
        # The check-out window closed an hour after the end.
        r = resident2.post(f"/volunteers/activities/{aid}/check-out", {"code": code})
        assert r.status_code == 400 and "签退时间" in r.json()["detail"]
        # Confirming before the end is refused.
        r = cadre.post(f"/volunteers/activities/{aid}/confirm-hours")
        assert r.status_code == 400
        assert cadre.post(f"/volunteers/activities/{aid}/finish").status_code == 200
        roster = cadre.get(f"/volunteers/activities/{aid}/roster").json()
        second = next(s for s in roster if s["household_id"] == village.household2.pk)
        assert second["minutes"] is None
        # The organiser corrects the one who forgot to check out, with a reason.
        r = cadre.post(f"/volunteers/signups/{second['id']}/hours", {"minutes": 90,
                                                                     "reason": ""})
        assert r.status_code == 400
        r = cadre.post(f"/volunteers/signups/{second['id']}/hours",
                       {"minutes": 150, "reason": "忘记签退，现场核实到11点半"})
        assert r.status_code == 200 and r.json()["minutes"] == 150
        event = AuditEvent.objects.filter(action="volunteers.signup.correct_hours").get()
        assert event.before["minutes"] is None and event.after["minutes"] == 150
        # A resident may not confirm, nor correct.
        assert resident.post(f"/volunteers/activities/{aid}/confirm-hours").status_code == 403

        r = cadre.post(f"/volunteers/activities/{aid}/confirm-hours")
        assert r.status_code == 200, r.content
        assert r.json()["hours_confirmed"] is True

        # 3 hours × 1 point; 2.5 hours × 1 point, rounded down.
        mine = resident.get("/volunteers/me/signups").json()
        assert [(s["minutes"], s["points"]) for s in mine] == [(180, 3)]
        balance = resident.get(f"/points/households/{village.household.pk}/balance").json()
        assert balance["balance"] == 3
        claim = Claim.objects.get(account__household=village.household.place)
        assert (claim.rule.code, claim.status, claim.points) == ("VH", ClaimStatus.APPROVED, 3)
        assert claim.transaction.posted_on == dt.date(2025, 3, 15)
        second_claim = Claim.objects.get(account__household=village.household2.place)
        assert second_claim.points == 2

        # Once only: a second confirmation is refused and posts nothing.
        r = cadre.post(f"/volunteers/activities/{aid}/confirm-hours")
        assert r.status_code == 400 and "重复" in r.json()["detail"]
        assert Transaction.objects.filter(source__startswith="volunteer:").count() == 2
        balance = resident.get(f"/points/households/{village.household.pk}/balance").json()
        assert balance["balance"] == 3
        # And corrections are closed now.
        r = cadre.post(f"/volunteers/signups/{second['id']}/hours",
                       {"minutes": 180, "reason": "再改"})
        assert r.status_code == 400


def _set_hours_rule(village, points: int | None) -> None:
    """Save the village's rule book with 志愿服务时长 at ``points`` an hour (None: without it)."""
    from gongzhi.points import actions as points_actions
    from gongzhi.points.rules import current_version, item_dict

    version = current_version(village.village)
    items = [{**item_dict(i), **({"points": points} if i.code == "VH" else {})}
             for i in version.items.all() if points is not None or i.code != "VH"]
    with on(at(8, 0, dt.date(2025, 3, 2))):
        points_actions.do_save_rules(version.book, items=items, note="修订志愿服务时长",
                                     acting_user=village.user("village_secretary"))


def _serve_three_hours(api, village) -> dict:
    activity = new_activity(api, village)
    aid, code = activity["id"], activity["code"]
    resident, cadre = api("resident"), api("village_cadre")
    with on(at(8, 50)):
        assert resident.post(f"/volunteers/activities/{aid}/signup").status_code == 201
        assert resident.post(f"/volunteers/activities/{aid}/check-in",
                             {"code": code}).status_code == 200
    with on(at(12, 0)):
        assert resident.post(f"/volunteers/activities/{aid}/check-out",
                             {"code": code}).status_code == 200
        assert cadre.post(f"/volunteers/activities/{aid}/finish").status_code == 200
        assert cadre.post(f"/volunteers/activities/{aid}/confirm-hours").status_code == 200
        return resident.get("/volunteers/me/signups").json()[0]


def test_hours_are_capped_by_the_rule_book(village, api):
    """The rule's monthly cap (20 points) cuts the posting to what is left."""
    _set_hours_rule(village, 8)
    mine = _serve_three_hours(api, village)
    assert (mine["minutes"], mine["points"]) == (180, 20)  # 24 asked, 20 allowed
    assert Claim.objects.get().points == 20


def test_without_the_rule_nothing_posts_and_it_says_why(village, api):
    """A rule book without 志愿服务时长: hours are kept, no points, and a note says why."""
    _set_hours_rule(village, None)
    mine = _serve_three_hours(api, village)
    assert mine["minutes"] == 180 and mine["points"] == 0 and "积分细则" in mine["points_note"]
    assert not Claim.objects.exists()


def test_cancel_sign_up_frees_the_place_and_drafts_are_hidden(village, api):
    cadre, resident, resident2 = api("village_cadre"), api("resident"), api(village.resident2)
    with on(at(10, 0, dt.date(2025, 3, 10))):
        draft = cadre.post("/volunteers/activities", {
            "place": village.village.pk, "title": "草稿活动", "address": "村委会",
            "starts_at": at(9).isoformat(), "ends_at": at(10).isoformat(), "slots": 1}).json()
        assert resident.get(f"/volunteers/activities/{draft['id']}").status_code == 404
        assert resident.post(f"/volunteers/activities/{draft['id']}/signup").status_code == 404
    activity = new_activity(api, village, slots=1)
    aid = activity["id"]
    with on(at(10, 0, dt.date(2025, 3, 11))):
        assert resident.post(f"/volunteers/activities/{aid}/signup").status_code == 201
        assert resident2.post(f"/volunteers/activities/{aid}/signup").status_code == 400
        assert resident.post(f"/volunteers/activities/{aid}/signup/cancel").status_code == 200
        assert resident2.post(f"/volunteers/activities/{aid}/signup").status_code == 201
        # Signing up again after cancelling reuses the row; now full again.
        assert resident.post(f"/volunteers/activities/{aid}/signup").status_code == 400
