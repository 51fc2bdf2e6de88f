"""A request posted through Open311 is an ordinary matter: it shows up in the village
secretary's workbench, moves through the workflow, and once published is on the public board
and on the endpoint with its (scrubbed) description and "closed" status."""

from __future__ import annotations

import pytest

from gongzhi.board.actions import do_publish_matter
from gongzhi.matters.models import Matter
from gongzhi.testing import login_client

from .conftest import validate

pytestmark = pytest.mark.django_db


def test_open311_request_in_workbench_and_on_board(client, post_request, o311):
    r = post_request(description="高城寨村村口路灯不亮，晚上看不清路", first_name="建国",
                     last_name="张", phone="13812341234")
    rid = r.json()[0]["service_request_id"]
    matter = Matter.objects.get(pk=int(rid))

    secretary = login_client(o311.user("village_secretary"))
    page = secretary.get("/matters/").content.decode()
    assert matter.title in page
    detail = secretary.get(f"/matters/{matter.pk}/").content.decode()
    assert "Open311 应用" in detail and "村口路灯不亮" in detail
    assert "张建国" in detail  # staff see who raised it; the public never does

    board = client.get(f"/board/{o311.village.pk}/").content.decode()
    assert matter.title not in board
    do_publish_matter(matter, acting_user=o311.user("village_secretary"))
    board = client.get(f"/board/{o311.village.pk}/").content.decode()
    assert matter.title in board and "13812341234" not in board and "张建国" not in board

    (row,) = client.get(f"/open311/v2/requests/{rid}.json").json()
    validate([row], "requests.json")
    assert row["status"] == "open" and "村口路灯不亮" in row["description"]
