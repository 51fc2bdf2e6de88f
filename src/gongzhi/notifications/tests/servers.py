"""Loopback HTTP servers the tests start: an SMS gateway, WeChat's API, a webhook receiver.

Each runs ``http.server`` in a thread on 127.0.0.1 and an ephemeral port, records what it
got, and is stopped by the test (``with``)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class _Server:
    def __init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                owner.handle(self, "GET", b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                owner.handle(self, "POST", self.rfile.read(length))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def reply(self, handler, status: int, data: dict) -> bool:
        body = json.dumps(data).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            handler.wfile.flush()
            return True
        except OSError:
            return False

    def handle(self, handler, method: str, body: bytes) -> None:  # pragma: no cover
        raise NotImplementedError


class SmsGateway(_Server):
    """Delivers each idempotency key once; a repeat is acknowledged but not delivered again.
    ``stall_first`` holds the first request open until :meth:`release` is called;
    ``fail`` answers that many requests with 503 first."""

    def __init__(self, *, stall_first: bool = False, fail: int = 0) -> None:
        super().__init__()
        self.requests: list[dict] = []
        self.delivered: list[dict] = []  # one per key: what reached a phone
        self.acknowledged: list[str] = []  # keys whose 2xx answer reached the sender
        self.stall_first, self.fail = stall_first, fail
        self.stalled = threading.Event()
        self._release = threading.Event()

    def release(self) -> None:
        self._release.set()

    def handle(self, handler, method: str, body: bytes) -> None:
        data = json.loads(body)
        key = handler.headers.get("Idempotency-Key")
        with self.lock:
            self.requests.append({"key": key, "headers": dict(handler.headers), **data})
            first = len(self.requests) == 1
            failing = self.fail > 0
            if failing:
                self.fail -= 1
            elif key not in {d["key"] for d in self.delivered}:
                self.delivered.append({"key": key, **data})
        if failing:
            self.reply(handler, 503, {"ok": False})
            return
        if first and self.stall_first:
            self.stalled.set()
            self._release.wait(30)
            return  # the sender is gone by now: no answer reaches it
        if self.reply(handler, 200, {"ok": True}):
            with self.lock:
                self.acknowledged.append(key)


class WeChat(_Server):
    """The token endpoint, the template send endpoint and the web authorisation code exchange
    of an official account. ``codes`` maps authorisation codes to openids; each works once."""

    def __init__(self, *, appid: str = "wxtest", secret: str = "s3cret",  # noqa: S107
                 expire_first_token: bool = False) -> None:
        super().__init__()
        self.appid, self.secret = appid, secret
        self.tokens_issued = 0
        self.valid: set[str] = set()
        self.sent: list[dict] = []
        self.expire_first_token = expire_first_token
        self.codes: dict[str, str] = {}
        self.exchanges: list[dict] = []

    def handle(self, handler, method: str, body: bytes) -> None:
        url = urlparse(handler.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/cgi-bin/token":
            if query.get("appid") != self.appid or query.get("secret") != self.secret:
                self.reply(handler, 200, {"errcode": 40013, "errmsg": "invalid appid"})
                return
            with self.lock:
                self.tokens_issued += 1
                token = f"token-{self.tokens_issued}"
                if not (self.expire_first_token and self.tokens_issued == 1):
                    self.valid.add(token)
            self.reply(handler, 200, {"access_token": token, "expires_in": 7200})
            return
        if url.path == "/cgi-bin/message/template/send":
            if query.get("access_token") not in self.valid:
                self.reply(handler, 200, {"errcode": 42001, "errmsg": "access_token expired"})
                return
            with self.lock:
                self.sent.append(json.loads(body))
            self.reply(handler, 200, {"errcode": 0, "errmsg": "ok", "msgid": len(self.sent)})
            return
        if url.path == "/sns/oauth2/access_token":
            with self.lock:
                self.exchanges.append(query)
                openid = self.codes.pop(query.get("code", ""), None)
            if query.get("appid") != self.appid or query.get("secret") != self.secret:
                self.reply(handler, 200, {"errcode": 40125, "errmsg": "invalid appsecret"})
            elif query.get("grant_type") != "authorization_code":
                self.reply(handler, 200, {"errcode": 40002, "errmsg": "invalid grant_type"})
            elif openid is None:
                self.reply(handler, 200, {"errcode": 40029, "errmsg": "invalid code"})
            else:
                self.reply(handler, 200, {"access_token": "web-token", "expires_in": 7200,
                                          "refresh_token": "r", "openid": openid,
                                          "scope": "snsapi_base"})
            return
        self.reply(handler, 404, {"errcode": 404})


class WebhookReceiver(_Server):
    """Verifies each POST's signature with ``secret``; answers 500 ``fail`` times first."""

    def __init__(self, secret: str, *, fail: int = 0) -> None:
        super().__init__()
        self.secret, self.fail = secret, fail
        self.received: list[dict] = []
        self.bad_signatures = 0

    def handle(self, handler, method: str, body: bytes) -> None:
        import hashlib
        import hmac

        timestamp = handler.headers.get("X-Gongzhi-Timestamp", "")
        expected = "sha256=" + hmac.new(self.secret.encode(), timestamp.encode() + b"." + body,
                                        hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, handler.headers.get("X-Gongzhi-Signature", "")):
            with self.lock:
                self.bad_signatures += 1
            self.reply(handler, 401, {"error": "bad signature"})
            return
        with self.lock:
            if self.fail > 0:
                self.fail -= 1
                failing = True
            else:
                failing = False
                self.received.append({"headers": dict(handler.headers),
                                      "body": json.loads(body)})
        self.reply(handler, 500 if failing else 200, {"ok": not failing})
