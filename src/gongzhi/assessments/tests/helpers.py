"""Helpers for the assessment tests: posting the edit page, reading pages and workbooks."""

from __future__ import annotations

import io
import re
from decimal import Decimal

from openpyxl import load_workbook

from gongzhi.assessments.forms import IndicatorForm, PolicyForm
from gongzhi.assessments.models import AssessmentRound, UnitResult
from gongzhi.assessments.systems import indicator_dict


def edit_data(version, **changes) -> dict:
    """The edit page's form as it comes filled in (policy and every indicator), changed."""
    data = {k: ("" if v is None else v) for k, v in PolicyForm.initial_from(version.policy).items()}
    items = [IndicatorForm.initial_from(indicator_dict(i)) for i in version.indicators.all()]
    data.update({"form-TOTAL_FORMS": len(items), "form-INITIAL_FORMS": len(items),
                 "form-MIN_NUM_FORMS": 0, "form-MAX_NUM_FORMS": 1000, "note": ""})
    for n, item in enumerate(items):
        for key, value in item.items():
            data[f"form-{n}-{key}"] = "" if value is None else value
    data.update(changes)
    return data


def error_of(response) -> str:
    match = re.search(r'class="msg msg-error"[^>]*>(.*?)</p>', response.content.decode(), re.S)
    return match.group(1) if match else response.content.decode()[:300]


def result_of(rnd: AssessmentRound, label: str) -> UnitResult:
    return UnitResult.objects.get(round=rnd, label=label)


def scores_of(result: UnitResult) -> dict[str, Decimal | None]:
    return {s.indicator.code: s.score for s in result.scores.select_related("indicator")}


def workbook(response):
    assert response.status_code == 200, response.content[:300]
    return load_workbook(io.BytesIO(response.content))
