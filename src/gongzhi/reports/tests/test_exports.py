"""Ledgers and reports through the 报表 page and the API, over the figures' March scenario
(``gongzhi.figures.tests.scenario``: nine matters, a complaint, a merge, an escalation)."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import subprocess

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from gongzhi.figures.compute import compute, percent
from gongzhi.figures.tests.scenario import MARCH, NOW, at, build
from gongzhi.reports.actions import do_expire_exports, do_request_export
from gongzhi.reports.models import ExportJob, JobStatus
from gongzhi.reports.periods import period_from
from gongzhi.testing import api_client, login_client

pytestmark = pytest.mark.django_db

MARCH_FORM = {"period": "month", "year": "2025", "number": "3"}


@pytest.fixture
def m(tree):
    return build(tree)


def post_job(client, commit, **data):
    with commit(execute=True), at(NOW):
        return client.post("/reports/", data)


def last_job(user) -> ExportJob:
    return ExportJob.objects.filter(requested_by=user).latest("pk")


def workbook(client, job):
    response = client.get(f"/reports/jobs/{job.pk}/file/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def data_rows(ws):
    """Rows under the header (序号 first) that carry a number in the first column."""
    header = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "序号")
    return header, [[c.value for c in row] for row in ws.iter_rows(min_row=header + 1)
                    if isinstance(row[0].value, int)]


def summary_value(ws, label):
    for row in ws.iter_rows():
        for i, cell in enumerate(row[:-1]):
            if cell.value == label:
                return row[i + 1].value
    raise AssertionError(label)


def test_county_matters_ledger_by_http(tree, m, django_capture_on_commit_callbacks):
    user = tree.user("county_office")
    client = login_client(user)
    response = post_job(client, django_capture_on_commit_callbacks, kind="matters",
                        place=tree.county.pk, **MARCH_FORM)
    assert response.status_code == 302
    job = last_job(user)
    assert job.status == JobStatus.DONE and job.progress == 100
    assert job.title == "测试县 2025年3月 三本账台账"
    wb = workbook(client, job)
    assert wb.sheetnames == ["汇总", "意见建议", "利益诉求", "投诉举报"]
    figures = compute(["matters", "satisfaction"], tree.county, *MARCH, now=NOW)["total"]
    summary = wb["汇总"]
    assert summary["A1"].value == "测试县 2025年3月 三本账汇总"
    assert summary_value(summary, "受理事项") == figures["received"] == 7
    assert summary_value(summary, "办结") == figures["closed"]
    assert summary_value(summary, "办结率") == pytest.approx(figures["completion_rate"])
    # By ledger, by hand: C and F are suggestions; A, D, G, H claims; B the complaint;
    # E (merged into D) is not listed.
    counts = {name: len(data_rows(wb[name])[1]) for name in ("意见建议", "利益诉求", "投诉举报")}
    assert counts == {"意见建议": 2, "利益诉求": 4, "投诉举报": 1}
    complaint = wb["投诉举报"]
    header, rows = data_rows(complaint)
    assert complaint["A1"].value == "测试县 2025年3月 投诉举报台账"
    assert complaint.freeze_panes == f"A{header + 1}"
    assert complaint.print_title_rows == f"${header}:${header}"
    assert complaint.page_setup.orientation == "landscape"
    assert "A1:L1" in {str(r) for r in complaint.merged_cells.ranges}
    assert rows[0][3].startswith("王小明")  # the county office may see complaint reporters
    assert summary_value(complaint, "受理事项") == 1
    assert any("制表单位：测试县" in str(c.value) for c in complaint["A"])


def test_village_cadre_sees_no_complaint_reporter(tree, m, django_capture_on_commit_callbacks):
    user = tree.user("village_cadre")
    client = login_client(user)
    post_job(client, django_capture_on_commit_callbacks, kind="matters",
             place=tree.village.pk, **MARCH_FORM)
    job = last_job(user)
    wb = workbook(client, job)
    _, rows = data_rows(wb["投诉举报"])
    assert len(rows) == 1
    assert rows[0][3] == "（依规保护，不显示）"
    assert "王小明" not in str(rows)
    # Other ledgers keep the reporter, with the phone masked when there is one.
    _, claims = data_rows(wb["利益诉求"])
    assert {r[3] for r in claims} == {"王小明"}
    # Only the village's matters: A, D, G (H was raised at the town, F in the other town).
    assert len(claims) == 2 + 1


def test_village_secretary_cannot_export_another_village(tree, m,
                                                         django_capture_on_commit_callbacks):
    user = tree.user("village_secretary")
    client = login_client(user)
    response = post_job(client, django_capture_on_commit_callbacks, kind="matters",
                        place=tree.other_village.pk, **MARCH_FORM)
    assert response.status_code == 400
    assert not ExportJob.objects.exists()
    api, headers = api_client(user)
    response = api.post("/api/v1/reports/jobs", {"kind": "matters",
                                                 "place": tree.other_village.pk,
                                                 "period": "year", "year": 2025},
                        content_type="application/json", headers=headers)
    assert response.status_code == 404
    # A resident holds no reports.export at all.
    assert login_client(tree.user("resident")).get("/reports/").status_code == 403


def test_job_progress_and_download_through_api(tree, m, django_capture_on_commit_callbacks):
    user = tree.user("town_secretary")
    api, headers = api_client(user)
    with django_capture_on_commit_callbacks(execute=True), at(NOW):
        response = api.post("/api/v1/reports/jobs",
                            {"kind": "matters", "place": tree.town.pk, "period": "custom",
                             "start": "2025-03-01", "end": "2025-03-31"},
                            content_type="application/json", headers=headers)
    assert response.status_code == 201, response.content
    job_id = response.json()["id"]
    assert response.json()["status"] == "queued"
    polled = api.get(f"/api/v1/reports/jobs/{job_id}", headers=headers).json()
    assert polled["status"] == "done" and polled["progress"] == 100
    assert polled["title"] == "城关镇 2025年3月1日至2025年3月31日 三本账台账"
    file = api.get(polled["download_url"], headers=headers)
    assert file.status_code == 200
    body = b"".join(file.streaming_content)
    assert body[:2] == b"PK"
    listed = api.get("/api/v1/reports/jobs", headers=headers).json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == job_id
    # Nobody else reaches the job or its file, whatever their role.
    other, other_headers = api_client(tree.user("county_office"))
    assert other.get(f"/api/v1/reports/jobs/{job_id}", headers=other_headers).status_code == 404
    assert other.get(polled["download_url"], headers=other_headers).status_code == 404
    # Bad input: a clear error, nothing created.
    response = api.post("/api/v1/reports/jobs", {"kind": "matters", "place": tree.town.pk,
                                                 "period": "quarter", "year": 2025,
                                                 "number": 5},
                        content_type="application/json", headers=headers)
    assert response.status_code == 400 and "季度" in response.json()["detail"]
    assert ExportJob.objects.count() == 1


def test_running_job_is_polled_and_finished_one_is_not(tree):
    user = tree.user("village_secretary")
    with at(NOW):
        job = do_request_export("matters", tree.village, period_from("year", year=2025),
                                acting_user=user)  # on_commit never runs: stays queued
    client = login_client(user)
    page = client.get("/reports/").content.decode()
    assert 'hx-trigger="every 2s"' in page and f'id="job-{job.pk}"' in page
    row = client.get(f"/reports/jobs/{job.pk}/", headers={"HX-Request": "true"})
    assert row.status_code == 200 and "every 2s" in row.content.decode()
    assert client.get(f"/reports/jobs/{job.pk}/file/").status_code == 404  # not ready
    from gongzhi.reports.jobs import run_export

    assert run_export(job.pk) == "done"
    assert run_export(job.pk) == "skipped"  # a second run claims nothing
    row = client.get(f"/reports/jobs/{job.pk}/", headers={"HX-Request": "true"}).content
    assert b"every 2s" not in row and b"/file/" in row
    assert login_client(tree.user("village_cadre")).get(
        f"/reports/jobs/{job.pk}/").status_code == 404


def test_expired_files_are_removed_once(tree, _export_root, django_capture_on_commit_callbacks):
    user = tree.user("village_secretary")
    from gongzhi.reports.jobs import run_export

    job = do_request_export("visits", tree.village, period_from("year", year=2025),
                            acting_user=user)
    run_export(job.pk)
    job.refresh_from_db()
    assert (_export_root / job.file_name).exists()
    later = job.expires_at + dt.timedelta(minutes=1)
    assert do_expire_exports(job.expires_at - dt.timedelta(minutes=1))["expired"] == 0
    with django_capture_on_commit_callbacks(execute=True):  # files go once committed
        assert do_expire_exports(later)["expired"] == 1
        assert do_expire_exports(later)["expired"] == 0
    job.refresh_from_db()
    assert job.status == JobStatus.EXPIRED and not job.file_name
    assert not list(_export_root.rglob("*.xlsx"))
    client = login_client(user)
    assert client.get(f"/reports/jobs/{job.pk}/file/").status_code == 404


@pytest.mark.parametrize("kind,title", [
    ("meetings", "高城寨村 2025年 说事议事台账"),
    ("points", "高城寨村 2025年 积分台账"),
    ("visits", "高城寨村 2025年 走访台账"),
])
def test_other_ledgers_open(tree, kind, title, django_capture_on_commit_callbacks):
    user = tree.user("village_secretary")
    client = login_client(user)
    post_job(client, django_capture_on_commit_callbacks, kind=kind, place=tree.village.pk,
             period="year", year="2025")
    job = last_job(user)
    assert job.status == JobStatus.DONE, job.error
    ws = workbook(client, job).active
    assert ws["A1"].value == title
    header, _rows = data_rows(ws)
    assert ws.page_setup.orientation == "landscape"
    assert ws.freeze_panes == f"A{header + 1}"


def test_supervision_ledger_and_points_need_their_permission(tree, m,
                                                             django_capture_on_commit_callbacks):
    # The supervisor holds matters.supervise at the county; the village cadre does not.
    cadre = tree.user("village_cadre")
    response = post_job(login_client(cadre), django_capture_on_commit_callbacks,
                        kind="supervision", place=tree.village.pk, **MARCH_FORM)
    assert response.status_code == 403
    supervisor = tree.user("supervisor")
    client = login_client(supervisor)
    post_job(client, django_capture_on_commit_callbacks, kind="supervision",
             place=tree.county.pk, **MARCH_FORM)
    ws = workbook(client, last_job(supervisor)).active
    assert ws["A1"].value == "测试县 2025年3月 督办台账"


def pdf_text(data: bytes) -> str:
    tool = shutil.which("pdftotext")
    if not tool:
        if os.environ.get("CI"):
            pytest.fail("pdftotext is missing: scripts/install-test-deps installs poppler-utils")
        pytest.skip("pdftotext is not installed")
    out = subprocess.run([tool, "-layout", "-", "-"], input=data, capture_output=True,  # noqa: S603
                         check=True)
    return out.stdout.decode()


def pdf_of(client, job) -> bytes:
    response = client.get(f"/reports/jobs/{job.pk}/file/")
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    assert data.startswith(b"%PDF")
    return data


def test_quarterly_work_report_pdf(tree, m, django_capture_on_commit_callbacks):
    user = tree.user("county_office")
    client = login_client(user)
    post_job(client, django_capture_on_commit_callbacks, kind="work_report",
             place=tree.county.pk, period="quarter", year="2025", number="1")
    job = last_job(user)
    assert job.status == JobStatus.DONE, job.error
    data = pdf_of(client, job)
    from weasyprint import HTML  # noqa: F401  (the renderer is present)

    text = pdf_text(data)
    q1 = compute(["matters", "satisfaction"], tree.county, MARCH[0],
                 timezone.make_aware(dt.datetime(2025, 4, 1)), now=NOW)["total"]
    assert "测试县 2025年第一季度 季度工作报告" in text
    assert percent(q1["completion_rate"]) in text
    assert "城关镇" in text and "八里镇" in text
    assert "未评价" in text


def test_petition_report_names_the_most_complained_unit(tree, m,
                                                         django_capture_on_commit_callbacks):
    user = tree.user("county_office")
    api, headers = api_client(user)
    with django_capture_on_commit_callbacks(execute=True), at(NOW):
        response = api.post("/api/v1/reports/jobs",
                            {"kind": "petition_report", "place": tree.county.pk,
                             "period": "year", "year": 2025, "min_volume": 1},
                            content_type="application/json", headers=headers)
    job = api.get(f"/api/v1/reports/jobs/{response.json()['id']}", headers=headers).json()
    assert job["status"] == "done", job["error"]
    data = b"".join(api.get(job["download_url"], headers=headers).streaming_content)
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert "信访工作情况报告" in text
    assert "县水务局" in text  # B, the complaint, names the water bureau
    assert "自办" in text and "代办" in text and "报到率" in text
