"""Every error the API returns is a JSON object with a ``detail`` sentence.

=====  ==============================================================================
400    an action refused the request (:class:`~gongzhi.core.errors.ActionError`), or
       the body is not JSON
401    no valid token and no session (anonymous, unknown, revoked or expired token)
403    the object is visible but the caller may not do this to it
       (:class:`~gongzhi.core.errors.ActionForbidden`), or the CSRF check of a session
       request failed
404    no such object *for this caller*: objects outside the caller's scope do not exist
405    the path exists but not for this method (``Allow`` says which)
422    the parameters or body do not match the schema (``errors`` lists where)
429    over the rate limit of the token or of the address (``Retry-After`` says when to retry)
500    an unexpected failure: logged with its traceback, which is never sent
=====  ==============================================================================
"""

from __future__ import annotations

import json
import math
from functools import wraps

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.signals import got_request_exception
from django.db import DataError
from django.http import Http404, HttpResponse
from django.utils.log import log_response
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError


class ErrorOut(Schema):
    detail: str


def json_response(data, status: int = 200) -> HttpResponse:
    """A JSON response built without a NinjaAPI (for URLs outside any operation)."""
    body = json.dumps(data, ensure_ascii=False)
    return HttpResponse(body, status=status, content_type="application/json; charset=utf-8")


def json_error(status: int, detail: str) -> HttpResponse:
    return json_response({"detail": detail}, status=status)


def _ninja_message(exc: HttpError) -> str:
    """Ninja's own English messages, as sentences for our users."""
    known = {
        "Cannot parse request body": _("请求内容不是有效的 JSON。"),
        "CSRF check Failed": _("CSRF 校验失败，请刷新页面后重试。"),
        "Too many requests.": _("请求过于频繁，请稍后再试。"),
        "Unauthorized": _("请先登录或提供有效的令牌。"),
        "Forbidden": _("您没有执行此操作的权限。"),
    }
    return known.get(exc.message, exc.message)


def _validation_message(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


def install(api: NinjaAPI) -> None:
    """Register the handlers on ``api``; the most specific class wins (MRO lookup)."""

    @api.exception_handler(ValidationError)
    def on_action_error(request, exc):
        return api.create_response(request, {"detail": _validation_message(exc)}, status=400)

    @api.exception_handler(PermissionDenied)
    def on_forbidden(request, exc):
        detail = str(exc) or _("您没有执行此操作的权限。")
        return api.create_response(request, {"detail": detail}, status=403)

    @api.exception_handler(Http404)
    def on_not_found(request, exc):
        return api.create_response(request, {"detail": _("未找到。")}, status=404)

    @api.exception_handler(AuthenticationError)
    def on_unauthenticated(request, exc):
        response = api.create_response(
            request, {"detail": _("请先登录或提供有效的令牌。")}, status=401
        )
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(NinjaValidationError)
    def on_bad_input(request, exc):
        return api.create_response(
            request, {"detail": _("请求参数有误。"), "errors": exc.errors}, status=422
        )

    @api.exception_handler(Throttled)
    def on_throttled(request, exc):
        # Operation adds Retry-After (whole seconds) to this answer.
        if exc.wait:
            detail = _("请求过于频繁，请在 %(seconds)s 秒后再试。") % {
                "seconds": math.ceil(exc.wait)}
        else:
            detail = _("请求过于频繁，请稍后再试。")
        return api.create_response(request, {"detail": detail}, status=429)

    @api.exception_handler(HttpError)
    def on_http_error(request, exc):
        if isinstance(exc.__cause__, NinjaValidationError):
            # Ninja wraps whatever the body parser raises as "cannot parse"; our parser's
            # refusal (a NUL in the text) is a validation error and answered as one.
            return on_bad_input(request, exc.__cause__)
        return api.create_response(
            request, {"detail": _ninja_message(exc)}, status=exc.status_code
        )

    @api.exception_handler(DataError)
    def on_data_error(request, exc):
        # A NUL in a path segment reaches PostgreSQL's adapter, which refuses it before any
        # query is sent (bodies and query strings are refused earlier, by the parser).
        if "NUL" in str(exc):
            return api.create_response(
                request, {"detail": _("请求中含有不允许的空字符（NUL）。")}, status=400)
        return on_unexpected(request, exc)

    @api.exception_handler(OverflowError)
    def on_overflow(request, exc):
        # SQLite cannot bind an integer past 64 bits: no row has such an id (PostgreSQL
        # compares it and finds nothing), so it is answered as any unknown id is.
        if "too large to convert" in str(exc):
            return api.create_response(request, {"detail": _("未找到。")}, status=404)
        return on_unexpected(request, exc)

    @api.exception_handler(Exception)
    def on_unexpected(request, exc):
        # As Django's own handler does: log once with the traceback and tell listeners (error
        # reporting, the test client); the caller gets a sentence and the request id only.
        response = api.create_response(
            request,
            {"detail": _("服务器内部错误，请稍后再试。"),
             "request_id": getattr(request, "request_id", "")},
            status=500,
        )
        log_response("Internal Server Error: %s", request.path, response=response,
                     request=request, exception=exc)
        got_request_exception.send(sender=None, request=request)
        return response


def not_allowed_as_json(view):
    """Wrap a Ninja path view so that its plain-text 405 becomes a JSON error."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            allow = response.get("Allow", "")
            response = json_error(405, _("此地址不支持该请求方法。"))
            response["Allow"] = allow
        return response

    return wrapper
