"""An Atom feed per place: newly published matters and honour lists, anonymised as on the board."""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.utils.translation import gettext as _

from .models import HonourList
from .public import (
    PublicMatter,
    board_matters,
    board_place,
    public_matters,
    published_lists,
    with_public_relations,
)

ITEMS = 30


class PlaceFeed(Feed):
    feed_type = Atom1Feed

    def get_object(self, request, place_id: int):
        return board_place(place_id)

    def title(self, place):
        return _("%(place)s公示栏") % {"place": place.name}

    def subtitle(self, place):
        return _("%(place)s公示的群众事项办理情况和红黑榜。") % {"place": place.name}

    def link(self, place):
        return reverse("board:place", args=[place.pk])

    def feed_guid(self, place):
        return f"tag:gongzhi,board:{place.pk}"

    def items(self, place):
        matters = list(with_public_relations(board_matters(place))
                       .order_by("-published_at", "-pk")[:ITEMS])
        lists = list(published_lists(place).prefetch_related("entries")[:ITEMS])
        items: list[PublicMatter | HonourList] = [*public_matters(matters), *lists]
        items.sort(key=lambda i: (i.published_at, i.pk if isinstance(i, HonourList) else i.id),
                   reverse=True)
        return items[:ITEMS]

    def item_title(self, item):
        if isinstance(item, HonourList):
            return _("%(kind)s：%(title)s（%(period)s）") % {
                "kind": item.get_kind_display(), "title": item.title, "period": item.period_label}
        return item.title

    def item_description(self, item):
        """HTML (the Atom summary's type): every text escaped, lines joined by <br>."""
        if isinstance(item, HonourList):
            return "<br>".join(escape(f"{e.name}：{e.reason}") for e in item.entries.all())
        parts = [item.category, item.place, f"{item.status_label} · {item.stage_name}"]
        if item.text:
            parts.append(item.text)
        if item.outcome_label:
            parts.append(_("办理结果：%(o)s") % {"o": item.outcome_label})
        if item.outcome_text:
            parts.append(item.outcome_text)
        if item.satisfaction_label:
            parts.append(_("群众评价：%(s)s") % {"s": item.satisfaction_label})
        return "<br>".join(escape(p) for p in parts if p)

    def item_link(self, item):
        if isinstance(item, HonourList):
            return reverse("board:list", args=[item.place_id, item.pk])
        return reverse("board:matter", args=[item.place_id, item.id])

    def item_guid(self, item):
        kind = "list" if isinstance(item, HonourList) else "matter"
        pk = item.pk if isinstance(item, HonourList) else item.id
        return f"tag:gongzhi,board-{kind}:{pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return item.published_at
