"""A complaint's reporter never reaches a department through the handling pages or API, and
the unit complained about is never summoned, assigned or handed the matter."""

from django.urls import reverse

from gongzhi.places.actions import do_create_organisation

from .conftest import raise_matter

REPORTER = "钱七妹"
PHONE = "13600001234"


def complaint(tree, **kw):
    return raise_matter(tree, ledger="complaint", title="垃圾清运不及时",
                        text="清运公司连续一周没有来收垃圾。", reporter_name=REPORTER,
                        reporter_phone=PHONE, **kw)


def _clean(text: str) -> bool:
    return REPORTER not in text and PHONE not in text and "136****1234" not in text


def test_department_never_sees_the_reporter(tree, api, page):
    m = complaint(tree)
    sec = api("village_secretary")
    summons_id = sec.post(f"/matters/{m.pk}/summons", {
        "organisation_ids": [tree.department.pk], "reason": "请到场"}).json()[0]["id"]
    sec.post(f"/matters/{m.pk}/mediations", {
        "way": "joint", "method": "peoples", "consent": True,
        "parties": [{"name": REPORTER, "contact": PHONE}, {"name": "清运公司"}],
        "terms": [{"what": "每日清运", "who": REPORTER, "by": "2026-12-31"}]})
    liaison = api("department_liaison")
    for url in ("/summons", "/summons?status=waiting", f"/matters/{m.pk}/summons",
                f"/matters/{m.pk}/mediations"):
        r = liaison.get(url)
        assert r.status_code == 200, url
        assert _clean(r.content.decode()), url
    r = liaison.post(f"/summons/{summons_id}/check-in", {"note": "已到"})
    assert r.status_code == 200 and _clean(r.content.decode())
    client = page("department_liaison")
    for url in (reverse("handling:summonses"), reverse("handling:matter", args=[m.pk])):
        r = client.get(url)
        assert r.status_code == 200, url
        assert _clean(r.content.decode()), url
    # The secretary, who may see the reporter, sees the mediation's parties.
    assert REPORTER in sec.get(f"/matters/{m.pk}/mediations").content.decode()


def test_the_unit_complained_about_is_kept_out(tree, api, page):
    cleaners = do_create_organisation(tree.county, acting_user=None, kind="property_company",
                                      name="环卫清运公司")
    m = complaint(tree, accused_organisation=cleaners)
    sec = api("village_secretary")
    r = sec.post(f"/matters/{m.pk}/summons", {"organisation_ids": [cleaners.pk],
                                              "reason": "请说明"})
    assert r.status_code == 400 and "被投诉" in r.json()["detail"]
    r = sec.post(f"/matters/{m.pk}/assign", {"mode": "self", "responsible_org_id": cleaners.pk})
    assert r.status_code == 400
    r = sec.post(f"/matters/{m.pk}/transfer", {"organisation_id": cleaners.pk, "reason": "x"})
    assert r.status_code == 400
    # The panel does not offer it either.
    html = page("village_secretary").get(reverse("handling:matter", args=[m.pk])).content.decode()
    assert "环卫清运公司" not in html
