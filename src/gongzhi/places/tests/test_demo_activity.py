"""`gongzhi demo` gives the demo county six months of activity, through the actions."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from gongzhi.accounts.models import User
from gongzhi.audit.models import AuditEvent
from gongzhi.evaluation.models import Evaluation
from gongzhi.figures.compute import compute
from gongzhi.figures.models import MatterRollup
from gongzhi.matters.models import Matter
from gongzhi.meetings.models import Meeting, MeetingStatus, Resolution
from gongzhi.places import demo_activity
from gongzhi.places.demo import demo_county
from gongzhi.points.models import Claim, ClaimStatus, Transaction
from gongzhi.testing import login_client
from gongzhi.visits.models import Visit


def run_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", "--seed", "5", "--scale", "120", "--no-progress", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def few_matters(monkeypatch):
    monkeypatch.setattr(demo_activity, "MATTERS", 60)


def test_the_demo_county_comes_alive_once(db, few_matters):
    text = run_demo()
    assert "Added six months of activity" in text
    county = demo_county()
    matters = Matter.objects.filter(county=county)
    assert matters.count() == 60
    stages = set(matters.values_list("stage_kind", flat=True))
    assert {"closed", "handling"} <= stages and len(stages) >= 3
    assert matters.filter(is_closed=False).exists()
    assert matters.filter(published_at__isnull=False).exists()
    oldest = timezone.now() - dt.timedelta(days=demo_activity.ACTIVITY_DAYS + 1)
    assert not matters.filter(created_at__lt=oldest).exists()
    assert not matters.filter(created_at__gt=timezone.now()).exists()
    assert Evaluation.objects.filter(county=county, outcome="satisfied").exists()
    assert Meeting.objects.filter(county=county, status=MeetingStatus.CLOSED).exists()
    assert Resolution.objects.filter(county=county).exists()
    assert Claim.objects.filter(county=county, status=ClaimStatus.APPROVED).exists()
    assert Transaction.objects.filter(county=county).exists()
    assert Visit.objects.filter(county=county).exists()

    # The rollups were rebuilt: the dashboards' figures agree with the matters.
    assert MatterRollup.objects.filter(county_id=county.pk).exists()
    end = timezone.localdate() + dt.timedelta(days=1)
    total = compute("matters", county, end - dt.timedelta(days=200), end)["total"]
    assert total["received"] == 60
    assert 0 < total["completion_rate"] < 1

    # The demo logins see the work: the village secretary's matter list is not empty.
    secretary = User.objects.get(username="village_secretary")
    mine = Matter.objects.restrict(secretary, "view").filter(county=county)
    assert mine.exists()
    page = login_client(secretary).get("/matters/all/")
    assert page.status_code == 200
    assert mine.order_by("-created_at").first().title in page.content.decode()

    # A second run adds nothing.
    before = (Matter.objects.count(), AuditEvent.objects.count(), Visit.objects.count())
    assert "nothing was changed" in run_demo()
    assert (Matter.objects.count(), AuditEvent.objects.count(), Visit.objects.count()) == before


def test_no_activity_leaves_the_registry_alone(db, few_matters):
    text = run_demo("--no-activity")
    assert "Added six months" not in text
    assert not Matter.objects.exists()
