"""The JSON API at /api/v1/: each app's own ``api.py`` router is mounted here."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from .auth import AUTH

api = NinjaAPI(
    title="gongzhi API",
    version="1",
    description=(
        "共治 gongzhi JSON API. Authenticate with `Authorization: Bearer <token>` "
        "(create one with `gongzhi token create USER NAME`). Errors are JSON objects with a "
        "`detail` message. Phones and ID numbers are masked."
    ),
    auth=AUTH,
    urls_namespace="api",
)


def _message(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc):
    return api.create_response(request, {"detail": _message(exc)}, status=400)


@api.exception_handler(PermissionDenied)
def on_forbidden(request, exc):
    return api.create_response(
        request, {"detail": str(exc) or _("您没有执行此操作的权限。")}, status=403
    )


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return api.create_response(request, {"detail": _("未找到。")}, status=404)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    return api.create_response(request, {"detail": _("请先登录或提供有效的令牌。")}, status=401)


@api.exception_handler(NinjaValidationError)
def on_bad_input(request, exc):
    return api.create_response(
        request, {"detail": _("请求参数有误。"), "errors": exc.errors}, status=422
    )


@api.exception_handler(HttpError)
def on_http_error(request, exc):
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


def mount_routers() -> None:
    from gongzhi.places.api import router as places_router

    api.add_router("/", places_router)


mount_routers()
urlpatterns = [("", api.urls)]
