from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .access import user_grants


@login_required
def home(request):
    """The workbench home: who I am and where my roles hold. Later apps add their panels."""
    return render(request, "core/home.html", {"grants": user_grants(request.user)})
