"""Staff raise matters on a resident's behalf (代群众登记) over HTTP."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gongzhi.matters.actions import do_raise_matter, matter_settings
from gongzhi.matters.models import Category, Matter
from gongzhi.places.models import Person
from gongzhi.testing import login_client


@pytest.fixture
def page(tree):
    matter_settings(tree.county)

    def for_role(role_or_user):
        user = tree.user(role_or_user) if isinstance(role_or_user, str) else role_or_user
        return login_client(user)

    return for_role


def form(tree, **kw):
    data = {"channel_choice": "visit", "village": tree.village.pk, "grid": tree.grid.pk,
            "category": Category.objects.get(county=tree.county, code="neighbour").pk,
            "ledger": "claim", "urgency": "normal", "title": "两家为宅基地争吵",
            "text": "张家和李家为宅基地边界争吵多次，希望村里调解。", "name": "李大娘",
            "phone": "13700002222"}
    data.update(kw)
    return data


def test_grid_worker_raises_on_behalf(tree, page):
    client = page("grid_worker")
    r = client.get(reverse("matters:raise"))
    html = r.content.decode()
    assert r.status_code == 200 and "代群众登记" in html and "入户走访" in html
    assert "高城寨村" in html and "东关社区" not in html  # only the user's own places
    r = client.post(reverse("matters:raise"), form(tree))
    m = Matter.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("matters:detail", args=[m.pk])
    assert m.channel == "visit" and m.created_by == tree.user("grid_worker")
    assert m.grid_id == tree.grid.pk and m.reporter_name == "李大娘"
    assert f"已登记，查询码 {m.tracking_code}。" in client.get(r["Location"]).content.decode()


def test_staff_cannot_raise_outside_their_scope(tree, page):
    client = page("grid_worker")
    # The village itself is above the grid worker's grant.
    r = client.post(reverse("matters:raise"), form(tree, grid=""))
    assert r.status_code == 400 and "您不能在这里登记事项" in r.content.decode()
    r = client.post(reverse("matters:raise"), form(tree, grid=tree.grid2.pk))
    assert r.status_code == 400
    # Another town's village is not offered and not accepted.
    r = client.post(reverse("matters:raise"), form(tree, village=tree.other_village.pk,
                                                   grid=tree.other_grid.pk))
    assert r.status_code == 400 and "请选择事情所在的村（社区）。" in r.content.decode()
    assert Matter.objects.count() == 0
    # Residents and departments do not raise on behalf.
    assert page("resident").get(reverse("matters:raise")).status_code == 403
    assert page("supervisor").get(reverse("matters:raise")).status_code == 403


def test_a_registered_person_and_their_household(tree, page):
    client = page("village_cadre")
    person = Person.objects.get(name="张建国")
    r = client.get(reverse("matters:person_search"), {"person_q": "张建"})
    html = r.content.decode()
    assert "张建国" in html and "138****1234" in html and "13812341234" not in html
    assert "赵志强" not in client.get(reverse("matters:person_search"),
                                      {"person_q": "赵"}).content.decode()  # another town
    r = client.get(reverse("matters:person_search"), {"person_q": "1234"})
    assert "张建国" in r.content.decode()  # by the phone's last digits
    r = client.post(reverse("matters:raise"), form(tree, name="", phone="",
                                                   reporter_person=person.pk,
                                                   place_is_household="1"))
    assert r.status_code == 302
    m = Matter.objects.get()
    assert m.reporter_person == person and m.place_id == tree.household.place_id
    assert m.household_id == tree.household.place_id and m.grid_id == tree.grid.pk
    # A person outside the user's scope cannot be named.
    other = Person.objects.get(name="赵志强")
    r = client.post(reverse("matters:raise"), form(tree, reporter_person=other.pk))
    assert r.status_code == 400 and "找不到所选的群众" in r.content.decode()


def test_nobody_named_and_not_anonymous_is_asked_for(tree, page):
    r = page("village_cadre").post(reverse("matters:raise"), form(tree, name="", phone=""))
    assert r.status_code == 400 and "请选择已登记的群众，或填写反映人姓名" in r.content.decode()
    r = page("village_cadre").post(reverse("matters:raise"),
                                   form(tree, name="", phone="", is_anonymous="1"))
    assert r.status_code == 302 and Matter.objects.get().is_anonymous


def test_complaint_names_the_accused(tree, page):
    r = page("village_secretary").post(reverse("matters:raise"), form(
        tree, ledger="complaint", accused_organisation=tree.department.pk,
        accused_user=tree.user("town_staff").pk, channel_choice="minqing110"))
    assert r.status_code == 302
    m = Matter.objects.get()
    assert m.accused_organisation == tree.department and m.accused_user == tree.user("town_staff")
    # The accused cannot see it.
    assert page("department_liaison").get(reverse("matters:detail", args=[m.pk])).status_code == 404
    assert page("town_staff").get(reverse("matters:detail", args=[m.pk])).status_code == 404
    # Accused fields only matter for complaints.
    r = page("village_secretary").post(reverse("matters:raise"), form(
        tree, accused_organisation=tree.department.pk, title="另一件事"))
    assert Matter.objects.get(title="另一件事").accused_organisation is None


def test_duplicates_are_shown_and_merged_by_those_allowed(tree, page):
    first = do_raise_matter(place=tree.grid, title="两家为宅基地争吵",
                            text="张家和李家为宅基地边界争吵多次，希望村里调解。",
                            channel="walk_in", ledger="claim",
                            category=Category.objects.get(county=tree.county, code="neighbour"),
                            acting_user=tree.user("grid_worker"))
    similar = reverse("matters:similar", args=[tree.county.pk])
    html = page("village_cadre").post(similar, form(tree)).content.decode()
    assert "可能重复" in html and first.tracking_code in html and "登记后并入此事项" in html
    html = page("grid_worker").post(similar, form(tree)).content.decode()
    assert first.tracking_code in html and "登记后并入此事项" not in html
    # Someone without the merge permission cannot merge by posting it anyway.
    r = page("grid_worker").post(reverse("matters:raise"), form(tree, merge_into=first.pk))
    assert r.status_code == 400 and "您没有合并事项的权限" in r.content.decode()
    assert Matter.objects.count() == 1
    # The cadre merges: the new one closes into the first, and the first's page opens.
    r = page("village_cadre").post(reverse("matters:raise"), form(tree, merge_into=first.pk))
    assert r.status_code == 302 and r["Location"] == reverse("matters:detail", args=[first.pk])
    new = Matter.objects.exclude(pk=first.pk).get()
    assert new.merged_into == first and new.is_closed


def test_bad_file_is_refused_next_to_the_field(tree, page):
    data = form(tree)
    data["attachments"] = [SimpleUploadedFile("fake.jpg", b"not really a jpeg", "image/jpeg")]
    r = page("village_cadre").post(reverse("matters:raise"), data)
    html = r.content.decode()
    assert r.status_code == 400 and Matter.objects.count() == 0
    assert "附件 fake.jpg 不是有效的图片。" in html and 'id="files-error"' in html
    assert "两家为宅基地争吵" in html
