"""The JSON API at /api/v1/: each app's own ``api.py`` router is mounted here.

Schema at ``/api/v1/openapi.json``, browsable docs at ``/api/v1/docs`` (Swagger UI served from
our own static files: no CDN). Every answer is JSON, errors included (see ``errors.py``):
unknown paths under /api/v1/ give a JSON 404, a wrong method a JSON 405.
"""

from django.urls import path, re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.openapi.urls import get_openapi_urls
from ninja.renderers import JSONRenderer

from . import errors, openapi
from .auth import AUTH
from .pagination import MAX_LIMIT
from .parser import NulRefusingParser
from .throttling import THROTTLES

DESCRIPTION = f"""\
共治 gongzhi JSON API.

Authenticate with `Authorization: Bearer <token>`; a token is created with
`gongzhi token create USER NAME [--scope PERMISSION ...] [--place ID ...] [--expires-days N]`.
A token with scopes holds only those of its user's permissions; one with places holds its
user's roles only at those places and beneath them. A logged-in browser session works too (with
the CSRF header for writes).

Everything is limited to the places where the caller's roles hold: an object outside them is
answered with 404, as if it did not exist. People's phone and ID numbers are masked; roles
allowed to see them in full call `POST /people/{{id}}/reveal`, which is audited.

Lists take `limit` (default 50, at most {MAX_LIMIT}) and `offset` and answer
`{{"items": [...], "count": N}}`. Errors are JSON objects with a `detail` sentence. Requests
are limited per token and per address: over a limit the answer is 429 with `Retry-After`.
"""


class Renderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}  # readable Chinese in answers


class GongzhiAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return openapi.complete(schema)

    def _get_urls(self):
        urls = get_openapi_urls(self)
        for bound_router in self._get_bound_routers():
            for pattern in bound_router.urls_paths(bound_router.prefix):
                pattern.callback = errors.not_allowed_as_json(pattern.callback)
                urls.append(pattern)
        urls.append(path("", csrf_exempt(self.root_view), name="api-root"))
        urls.append(re_path(r"^.*$", csrf_exempt(self.unknown_path_view), name="not-found"))
        return urls

    def root_view(self, request, **kwargs):
        return errors.json_response(
            {"title": self.title, "version": self.version,
             "openapi": request.path + self.openapi_url.lstrip("/"),
             "docs": request.path + self.docs_url.lstrip("/")}
        )

    def unknown_path_view(self, request, **kwargs):
        return errors.json_error(404, _("未找到。"))


api = GongzhiAPI(
    title="gongzhi API",
    version="1",
    description=DESCRIPTION,
    auth=AUTH,
    throttle=THROTTLES,
    renderer=Renderer(),
    parser=NulRefusingParser(),
    urls_namespace="api",
)
errors.install(api)


def mount_routers() -> None:
    from gongzhi.board.api import router as board_router
    from gongzhi.evaluation.api import router as evaluation_router
    from gongzhi.handling.api import router as handling_router
    from gongzhi.matters.api import router as matters_router
    from gongzhi.meetings.api import router as meetings_router
    from gongzhi.places.api import router as places_router
    from gongzhi.points.api import router as points_router
    from gongzhi.supervision.api import router as supervision_router

    from .figures import router as figures_router
    from .me import router as me_router

    api.add_router("/", me_router)
    api.add_router("/", figures_router)
    api.add_router("/", places_router)
    api.add_router("/", supervision_router)
    api.add_router("/", evaluation_router)
    api.add_router("/", handling_router)
    api.add_router("/", matters_router)
    api.add_router("/", board_router)
    api.add_router("/", points_router)
    api.add_router("/", meetings_router)
    api.add_router("/", "gongzhi.meetings.api_public_affairs.router")
    api.add_router("/", "gongzhi.assessments.api.router")
    api.add_router("/", "gongzhi.visits.api.router")
    api.add_router("/", "gongzhi.reports.api.router")
    api.add_router("/", "gongzhi.hotline.api.router")
    api.add_router("/", "gongzhi.webhooks.api.router")
    api.add_router("/", "gongzhi.volunteers.api.router")
    api.add_router("/", "gongzhi.cobuilding.api.router")
    api.add_router("/", "gongzhi.compact.api.router")


mount_routers()
