"""What 大走访 adds to other pages: the source panel on a matter's page and the cadre's own
standing on the workbench."""

from __future__ import annotations

from django.urls import reverse

from gongzhi.board.anonymise import mask_numbers
from gongzhi.matters.models import reporter_visible_to

from .access import holds_over
from .models import VisitMatter
from .quota import own_standing


def matter_panel(request, matter) -> dict | None:
    """The visit a matter was raised from (two queries; None when it was not). Where the user
    may not see who raised the matter (a complaint), only the date and kind are shown: the
    person met would name the reporter."""
    link = (VisitMatter.objects.filter(matter=matter)
            .select_related("visit", "visit__visitor").first())
    if link is None:
        return None
    visit = link.visit
    user = request.user
    full = reporter_visible_to(user, matter)
    can_open = full and (visit.visitor_id == user.pk or holds_over(user, "visits.view", visit))
    notes = visit.notes if holds_over(user, "people.view_sensitive", visit) else mask_numbers(
        visit.notes)
    return {
        "source_visit": visit,
        "source_visit_full": full,
        "source_visit_url": reverse("visits:detail", args=[visit.pk]) if can_open else None,
        "source_visit_notes": notes if full else "",
        "source_visit_met": list(visit.met.all()) if full else [],
    }


def home_panel(request) -> dict:
    return {"visit_standing": own_standing(request.user)}
