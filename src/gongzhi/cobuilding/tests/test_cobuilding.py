"""三共 over HTTP: a need matched with a stationed unit's resource becomes a project whose
progress shows on the public board; contributions are counted per unit for assessments."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from gongzhi.cobuilding.models import Need, NeedStatus, Project, ProjectStatus
from gongzhi.figures.compute import compute
from gongzhi.places.actions import do_create_organisation
from gongzhi.testing import api_client, login_client


@pytest.fixture
def unit(tree):
    return do_create_organisation(tree.town, acting_user=None, kind="resident_unit",
                                  name="城关供电所", category="供电")


def test_need_to_project_on_the_board(tree, unit):
    secretary = login_client(tree.user("village_secretary"))
    today = timezone.localdate()
    response = secretary.post("/cobuilding/needs/new/", {
        "place": tree.village.pk, "title": "村口路灯不亮", "category": "facilities",
        "location": "村口"})
    assert response.status_code == 302
    need = Need.objects.get(title="村口路灯不亮")
    assert need.village_id == tree.village.pk and need.status == NeedStatus.OPEN
    town = login_client(tree.user("town_staff"))
    assert town.post("/cobuilding/resources/new/", {
        "organisation": unit.pk, "kind": "staff", "title": "电工志愿服务队", "quantity": "6",
        "unit": "人", "availability": "每周六"}).status_code == 302
    resource = unit.cobuilding_resources.get()
    # The need page offers the unit's resource; matching it starts a project.
    page = secretary.get(f"/cobuilding/needs/{need.pk}/")
    assert "电工志愿服务队" in page.content.decode()
    response = secretary.post(f"/cobuilding/needs/{need.pk}/match/", {
        "resources": [resource.pk], "title": "村口路灯修复", "owner_name": "王书记",
        "start_on": today.isoformat(), "due_on": (today + dt.timedelta(days=30)).isoformat()})
    project = Project.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/cobuilding/projects/{project.pk}/"
    need.refresh_from_db()
    assert need.status == NeedStatus.MATCHED
    assert list(project.units.values_list("organisation_id", flat=True)) == [unit.pk]
    # Progress, then the board (no login) shows the project and its percentage.
    assert secretary.post(f"/cobuilding/projects/{project.pk}/progress/", {
        "percent": "60", "note": "已更换8盏灯"}).status_code == 302
    project.refresh_from_db()
    assert project.progress == 60
    board = Client().get(f"/board/{tree.village.pk}/").content.decode()
    assert "村口路灯修复" in board and "进度 60%" in board and "城关供电所" in board
    assert "已更换8盏灯" in Client().get(f"/cobuilding/public/{tree.village.pk}/").content.decode()
    # Going back is refused with a sentence, nothing changes.
    secretary.post(f"/cobuilding/projects/{project.pk}/progress/", {"percent": "40", "note": "x"})
    project.refresh_from_db()
    assert project.progress == 60
    # Contribution and completion; the figures count them for the unit.
    assert secretary.post(f"/cobuilding/projects/{project.pk}/contributions/", {
        "organisation": unit.pk, "on": today.isoformat(), "hours": "12.5",
        "funds": "3000"}).status_code == 302
    assert secretary.post(f"/cobuilding/projects/{project.pk}/complete/", {
        "note": "全部修复"}).status_code == 302
    project.refresh_from_db()
    need.refresh_from_db()
    assert project.status == ProjectStatus.COMPLETED and need.status == NeedStatus.DONE
    start = today.replace(day=1)
    end = today + dt.timedelta(days=1)
    result = compute(["cobuilding_projects", "cobuilding_contributions"], tree.county, start, end,
                     group_by="department")
    row = next(r for r in result["rows"] if r["key"] == unit.pk)
    assert (row["projects"], row["projects_completed"], row["hours"], row["funds"]) == (
        1, 1, 12, 3000)
    assert row["cobuilding_completion_rate"] == 1.0
    # The staff index lists the three lists and this year's contributions by unit.
    for role in ("county_office", "town_secretary", "village_secretary"):
        page = login_client(tree.user(role)).get("/cobuilding/")
        assert page.status_code == 200, role
        assert "村口路灯修复" in page.content.decode()
    assert "城关供电所" in login_client(tree.user("county_office")).get(
        "/cobuilding/").content.decode()


def test_match_refused_outside_scope_and_for_units_elsewhere(tree, unit):
    far = do_create_organisation(tree.other_town, acting_user=None, kind="resident_unit",
                                 name="八里镇卫生院")
    client, headers = api_client(tree.user("village_secretary"))
    need = client.post("/api/v1/cobuilding/needs", {
        "place": tree.village.pk, "title": "老人理发", "category": "elderly"},
        content_type="application/json", headers=headers)
    assert need.status_code == 201, need.content
    admin, admin_headers = api_client(tree.user("administrator"))
    res = admin.post("/api/v1/cobuilding/resources", {
        "organisation": far.pk, "kind": "expertise", "title": "上门义诊"},
        content_type="application/json", headers=admin_headers).json()
    today = timezone.localdate().isoformat()
    refused = client.post(f"/api/v1/cobuilding/needs/{need.json()['id']}/projects", {
        "resources": [res["id"]], "owner_name": "王", "start_on": today, "due_on": today},
        content_type="application/json", headers=headers)
    assert refused.status_code == 400 and "不能对接" in refused.json()["detail"]
    assert not Project.objects.exists()
    # Another village's staff cannot record needs here.
    other = login_client(tree.user("grid_worker"))
    other.post("/cobuilding/needs/new/", {"place": tree.village.pk, "title": "x",
                                          "category": "other"})
    assert Need.objects.count() == 1
