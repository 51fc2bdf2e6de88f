"""Residents' pages over HTTP, without an account: raise, get a code, track it."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from gongzhi.matters import workflow
from gongzhi.matters.actions import do_raise_matter, matter_settings
from gongzhi.matters.models import Category, Matter

NAME, PHONE = "钱七妹", "13600001234"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def county(tree):
    matter_settings(tree.county)
    return tree.county


def _category(county, code="infrastructure"):
    return Category.objects.get(county=county, code=code)


def _form(tree, **kw):
    data = {"village": tree.village.pk, "grid": tree.grid.pk,
            "category": _category(tree.county).pk, "ledger": "claim", "urgency": "normal",
            "title": "村口路灯不亮", "text": "村口路灯坏了一个月，晚上出行不便。",
            "name": NAME, "phone": PHONE}
    data.update(kw)
    return data


def _raise(client, tree, url=None, **kw):
    return client.post(url or reverse("matters_public:raise", args=[tree.county.pk]),
                       _form(tree, **kw))


def test_index_and_raise_page_need_no_login(tree, county):
    c = Client()
    r = c.get(reverse("matters_public:index"))
    assert r.status_code == 200 and "我要说事" in r.content.decode()
    r = c.get(reverse("matters_public:raise_start"))
    assert r.status_code == 302 and r["Location"].endswith(f"/m/{county.pk}/say/")
    r = c.get(reverse("matters_public:raise", args=[county.pk]))
    page = r.content.decode()
    assert r.status_code == 200
    for text in ("意见建议", "利益诉求", "投诉举报", "急事急说", "特事特说", "匿名反映",
                 "您的身份会被保护", "高城寨村", "东关社区", "基础设施", "csrfmiddlewaretoken"):
        assert text in page, text


def test_resident_raises_with_name_gets_a_code_and_tracks_it(tree, county):
    c = Client()
    r = _raise(c, tree)
    assert r.status_code == 302 and r["Location"] == reverse("matters_public:done")
    matter = Matter.objects.get()
    assert matter.channel == "web" and matter.grid_id == tree.grid.pk
    assert matter.reporter_name == NAME and matter.reporter_phone == PHONE
    assert matter.created_by is None and not matter.is_anonymous
    r = c.get(r["Location"])
    page = r.content.decode()
    assert matter.tracking_code in page
    assert reverse("matters_public:track_code", args=[matter.tracking_code]) in page
    # Looking it up by code (any case, spaces allowed) leads to its page.
    r = c.get(reverse("matters_public:track"), {"code": f" {matter.tracking_code.lower()} "})
    assert r.status_code == 302
    r = c.get(r["Location"])
    assert r.status_code == 200 and "村口路灯不亮" in r.content.decode()


def test_resident_raises_anonymously_and_by_wechat(tree, county):
    c = Client()
    url = reverse("matters_public:raise", args=[county.pk]) + "?via=wechat"
    r = _raise(c, tree, url=url, is_anonymous="1", name="", phone="")
    assert r.status_code == 302
    matter = Matter.objects.get()
    assert matter.is_anonymous and matter.reporter_name == "" and matter.reporter_phone == ""
    assert matter.channel == "wechat"


def test_a_village_from_a_qr_code_is_fixed_on_the_form(tree, county):
    url = reverse("matters_public:raise", args=[county.pk]) + f"?place={tree.grid.pk}"
    page = Client().get(url).content.decode()
    assert "高城寨村 · 第一网格" in page and f'name="grid" value="{tree.grid.pk}"' in page


def test_bad_input_is_explained_next_to_the_fields_and_kept(tree, county):
    c = Client()
    r = _raise(c, tree, ledger="", title="", phone="12345", category="")
    page = r.content.decode()
    assert r.status_code == 400 and Matter.objects.count() == 0
    assert "请选择您反映的是意见建议、利益诉求还是投诉举报。" in page
    assert "请用一句话写明是什么事。" in page
    assert "手机号码格式不正确" in page
    assert "请选择事情的类别" in page
    assert "村口路灯坏了一个月，晚上出行不便。" in page  # what was typed stays
    assert f'value="{NAME}"' in page
    # Neither a name nor anonymity: both are asked for.
    r = _raise(c, tree, name="", phone="")
    page = r.content.decode()
    assert "请留下您的姓名" in page and "请留下手机号码" in page


def test_a_village_of_another_county_is_refused(tree, county):
    from gongzhi.places.actions import do_create_place

    other = do_create_place(None, "county", "邻县", acting_user=None)
    town = do_create_place(other, "town", "邻镇", acting_user=None)
    village = do_create_place(town, "village", "邻村", acting_user=None)
    r = _raise(Client(), tree, village=village.pk, grid="")
    assert r.status_code == 400 and "请选择事情所在的村（社区）。" in r.content.decode()
    assert Matter.objects.count() == 0


def test_bad_file_type_is_refused_with_a_message_and_no_matter(tree, county):
    c = Client()
    data = _form(tree)
    data["attachments"] = [SimpleUploadedFile("run.exe", b"MZ\x90\x00", "application/x-msdownload")]
    r = c.post(reverse("matters_public:raise", args=[county.pk]), data)
    page = r.content.decode()
    assert r.status_code == 400 and Matter.objects.count() == 0
    assert "不支持的附件类型：run.exe" in page
    assert "请重新选择后再提交" in page  # the files must be chosen again: it says so
    assert "村口路灯不亮" in page


def test_photos_are_kept_and_served_only_to_staff(tree, county):
    c = Client()
    data = _form(tree)
    data["attachments"] = [SimpleUploadedFile("灯.png", PNG, "image/png"),
                           SimpleUploadedFile("说明.txt", "路灯编号 17".encode(), "text/plain")]
    assert c.post(reverse("matters_public:raise", args=[county.pk]), data).status_code == 302
    matter = Matter.objects.get()
    files = list(matter.files.order_by("pk"))
    assert [f.name for f in files] == ["灯.png", "说明.txt"]
    # Not public: the tracking page does not list or serve them.
    page = c.get(reverse("matters_public:track_code", args=[matter.tracking_code])).content
    assert "灯.png" not in page.decode()
    r = c.get(reverse("matters_public:file", args=[matter.tracking_code, files[0].pk]))
    assert r.status_code == 404
    # Published ones are (publishing is the board's job: one is marked by hand here).
    files[0].is_public = True
    files[0].save(update_fields=["is_public"])
    r = c.get(reverse("matters_public:file", args=[matter.tracking_code, files[0].pk]))
    assert r.status_code == 200 and b"".join(r.streaming_content) == PNG


def test_the_public_page_shows_no_names_or_phones(tree, county):
    from gongzhi.accounts.actions import do_create_user, do_grant_role

    sec = do_create_user("wang_sec", acting_user=None, display_name="王建军", county=county)
    do_grant_role(sec, "village_secretary", tree.village, acting_user=None)
    m = do_raise_matter(place=tree.grid, title="垃圾没人清", text="垃圾堆了一周。",
                        channel="walk_in", ledger="complaint", reporter_name=NAME,
                        reporter_phone=PHONE, acting_user=tree.user("grid_worker"),
                        category=_category(county, "environment"))
    m = workflow.do_transition(m, "accept", acting_user=sec)
    m = workflow.do_transition(m, "report_result", acting_user=sec,
                               fields={"outcome": "solved",
                                       "outcome_text": "已清运，联系人电话 13912345678"})
    m = workflow.do_transition(m, "give_feedback", acting_user=sec, comment="已反馈给反映人")
    r = Client().get(reverse("matters_public:track_code", args=[m.tracking_code]))
    page = r.content.decode()
    assert r.status_code == 200
    assert "受理" in page and "办理完成" in page and "已清运" in page
    for secret in (NAME, PHONE, "13912345678", "王建军", "wang_sec", "u_grid_worker"):
        assert secret not in page, secret
    assert "139****5678" in page  # phones in free text are masked
    assert "村（社区）书记" in page  # who acted: a role, not a name
    # The evaluation link goes to the reporter only, never on this page.
    assert "/e/" not in page


def test_wrong_code_is_a_friendly_not_found(tree, county):
    c = Client()
    r = c.get(reverse("matters_public:track"), {"code": "NOTACODE22"})
    assert r.status_code == 404 and "没有找到查询码" in r.content.decode()
    r = c.get(reverse("matters_public:track_code", args=["ZZZZZZZZZZ"]))
    assert r.status_code == 404 and "没有找到查询码" in r.content.decode()


def test_places_cascade_for_htmx(tree, county):
    c = Client()
    url = reverse("matters_public:places", args=[county.pk])
    page = c.get(url, {"town": tree.other_town.pk}).content.decode()
    assert "东关社区" in page and "高城寨村" not in page
    page = c.get(url, {"town": tree.town.pk, "village": tree.village.pk}).content.decode()
    assert "第一网格" in page and "第二网格" in page
    # Another town's village is dropped when the town changes.
    page = c.get(url, {"town": tree.other_town.pk, "village": tree.village.pk}).content.decode()
    assert "第一网格" not in page


def test_similar_open_matters_are_shown_but_complaints_are_not(tree, county):
    cat = _category(county)
    text = "村口路灯坏了一个月，晚上出行不便。"
    do_raise_matter(place=tree.grid, title="村口路灯不亮", text=text, channel="walk_in",
                    ledger="claim", category=cat, acting_user=tree.user("grid_worker"))
    do_raise_matter(place=tree.grid, title="村口路灯不亮了", text=text, channel="walk_in",
                    ledger="complaint", category=cat, acting_user=tree.user("grid_worker"))
    c = Client(enforce_csrf_checks=False)
    r = c.post(reverse("matters_public:similar", args=[county.pk]), _form(tree))
    page = r.content.decode()
    assert "附近已有相似的事正在办理" in page and "村口路灯不亮" in page
    assert "村口路灯不亮了" not in page  # a complaint's existence is not told to the public
    # The resident says "mine too": raised anyway, with the hint for staff; nothing merged.
    same = Matter.objects.get(ledger="claim")
    r = _raise(c, tree, same_as=same.pk)
    assert r.status_code == 302
    new = Matter.objects.latest("pk")
    assert new.merged_into_id is None and new.attributes["same_as"] == same.tracking_code


def test_csrf_is_required(tree, county):
    c = Client(enforce_csrf_checks=True)
    r = _raise(c, tree)
    assert r.status_code == 403 and Matter.objects.count() == 0
