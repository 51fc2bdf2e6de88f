"""A county connected to 12345, a fake hotline on loopback, and a signed client for it.

The fake hotline is a stdlib ``http.server`` in a thread on 127.0.0.1: it checks each push's
signature with the connection's outbound secret, records what it got, and answers 500 to the
first ``fail_first`` pushes.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client

from gongzhi.hotline import actions, signing
from gongzhi.matters.actions import matter_settings


class FakeHotline:
    def __init__(self) -> None:
        self.received: list[dict] = []
        self.fail_first = 0
        self.secret = ""
        self.calls = 0
        hotline = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                stamp = self.headers.get("X-Hotline-Timestamp", "")
                good = signing.verify(hotline.secret, stamp, body,
                                      self.headers.get("X-Hotline-Signature", ""))
                hotline.calls += 1
                if hotline.calls <= hotline.fail_first:
                    status, answer = 500, b'{"error":"busy"}'
                elif not good:
                    status, answer = 401, b'{"error":"bad signature"}'
                else:
                    hotline.received.append({
                        "body": json.loads(body), "message_id":
                        self.headers.get("X-Hotline-Message-Id"),
                    })
                    status, answer = 200, b'{"ok":true}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/gongzhi/push"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def types(self) -> list[str]:
        return [r["body"]["type"] for r in self.received]


@pytest.fixture
def hotline_server():
    server = FakeHotline()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def connection(tree, hotline_server):
    matter_settings(tree.county)
    conn, found = actions.do_create_connection(
        tree.county, acting_user=tree.user("administrator"), name="测试县12345",
        outbound_url=hotline_server.url, default_place=tree.county,
        category_map={"环境卫生": "environment"},
    )
    hotline_server.secret = found["outbound"]
    conn.secrets = found
    return conn


class Hotline:
    """The hotline's side: signs what it sends with the connection's inbound secret."""

    def __init__(self, connection) -> None:
        self.connection = connection
        self.client = Client()
        self.secret = connection.secrets["inbound"]

    def post(self, path: str, data=None, *, body: bytes | None = None, stamp=None,
             signature: str | None = None):
        if body is None:
            body = json.dumps(data, ensure_ascii=False).encode("utf-8")
        stamp = str(int(time.time()) if stamp is None else stamp)
        signature = signature or signing.sign(self.secret, stamp, body)
        return self.client.post(
            f"/hotline/12345/{self.connection.key}{path}", data=body,
            content_type="application/json",
            headers={"X-Hotline-Timestamp": stamp, "X-Hotline-Signature": signature},
        )

    def order(self, order_id: str = "GD20250312001", *, stamp=None, **extra):
        data = {"order_id": order_id, "classification": "求助", "category": "环境卫生",
                "title": "村口垃圾无人清运", "content": "高城寨村村口垃圾堆放一周无人清运。",
                "caller": {"name": "刘女士", "phone": "13811112222"},
                "address": "高城寨村村口", "place_hint": "高城寨村",
                "deadline": "2025-03-20T18:00:00+08:00"}
        data.update(extra)
        return self.post("/orders", data, stamp=stamp)


@pytest.fixture
def hotline(connection):
    return Hotline(connection)
