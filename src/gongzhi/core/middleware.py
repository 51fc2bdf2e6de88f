from .context import new_request_id, request_id


class RequestIdMiddleware:
    """Gives every request an id (or keeps a sane one from ``X-Request-ID``) for the audit."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if incoming.isalnum() and 8 <= len(incoming) <= 64 else new_request_id()
        request.request_id = rid
        token = request_id.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response["X-Request-ID"] = rid
        return response


class ChineseByDefaultMiddleware:
    """zh-Hans unless the user chose another language (the language cookie).

    Django's LocaleMiddleware would otherwise follow the browser's Accept-Language; gongzhi's
    users are Chinese offices and residents, and a page must not switch language because a
    phone or a kiosk browser is set to English. Placed before LocaleMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
