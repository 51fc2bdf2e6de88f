"""Signing in and out through the login page, lockout after repeated failures, language."""

import pytest
from django.test import Client
from django.urls import reverse

from gongzhi.accounts.roles import Role
from gongzhi.testing import PASSWORD, login_client

pytestmark = pytest.mark.django_db


def login(client, username, password):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_login_page_renders(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="zh-Hans">' in body
    assert 'name="username"' in body and 'type="password"' in body
    assert "csrfmiddlewaretoken" in body
    assert "登录共治" in body


def test_login_then_workbench_then_logout(client, tree):
    user = tree.user(Role.GRID_WORKER)
    response = login(client, user.username, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    body = client.get(reverse("home")).content.decode()
    assert "网格员" in body and "退出登录" in body

    assert client.get(reverse("accounts:logout")).status_code == 405  # POST only
    response = client.post(reverse("accounts:logout"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:login")
    assert "您已退出登录。" in response.content.decode()
    assert client.get(reverse("home")).status_code == 302


def test_wrong_password_shows_an_error_and_keeps_the_user_name(client, tree):
    response = login(client, "u_grid_worker", "wrong-password")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'value="u_grid_worker"' in body
    assert 'class="msg msg-error"' in body


def test_signed_in_user_visiting_login_goes_to_workbench(tree):
    client = login_client(tree.user(Role.GRID_WORKER))
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_five_failures_lock_the_account(client, tree):
    user = tree.user(Role.VILLAGE_SECRETARY)
    statuses = [login(client, user.username, "wrong-password").status_code for _ in range(5)]
    assert statuses[:4] == [200, 200, 200, 200]
    assert statuses[4] == 429  # the fifth failure already answers with the lockout page

    response = login(client, user.username, PASSWORD)
    assert response.status_code == 429
    body = response.content.decode()
    assert "账号已暂时锁定" in body
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("home")).status_code == 302

    # Another account from the same address is not locked.
    other = Client()
    assert login(other, tree.user(Role.GRID_WORKER).username, PASSWORD).status_code == 302


def test_success_before_the_limit_resets_the_count(client, tree):
    user = tree.user(Role.GRID_WORKER)
    for _ in range(4):
        login(client, user.username, "wrong-password")
    assert login(client, user.username, PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))
    for _ in range(4):
        assert login(client, user.username, "wrong-password").status_code == 200
    assert login(client, user.username, PASSWORD).status_code == 302


def test_language_switch_renders_login_page_in_english(client):
    response = client.post(reverse("set_language"),
                           {"language": "en", "next": reverse("accounts:login")})
    assert response.status_code == 302
    body = client.get(reverse("accounts:login")).content.decode()
    assert '<html lang="en">' in body
    assert "Sign in" in body and "Password" in body and "User name" in body
    assert "登录共治" not in body and "密码" not in body
    # The switch itself stays readable in both languages.
    assert "简体中文" in body and "English" in body


def test_language_select_submits_without_inline_script(client):
    body = client.get(reverse("accounts:login")).content.decode()
    assert "data-autosubmit" in body
    assert "onchange" not in body
    assert 'src="/static/gongzhi/app.js" defer' in body
