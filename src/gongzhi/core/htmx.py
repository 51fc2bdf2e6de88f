"""One view, two renderings: the partial for an htmx request, the full page otherwise."""

from django.shortcuts import render


def render_htmx(request, full_template: str, partial_template: str, context: dict):
    template = partial_template if getattr(request, "htmx", False) else full_template
    return render(request, template, context)
