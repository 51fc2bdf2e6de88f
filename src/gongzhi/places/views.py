from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from .models import Place


@login_required
def browse(request, place_id: int | None = None):
    places = Place.objects.restrict(request.user, "view")
    place = get_object_or_404(places, pk=place_id) if place_id else None
    children = places.filter(parent=place) if place else places.filter(kind="county")
    return render(request, "places/browse.html", {"place": place, "children": children[:500]})
