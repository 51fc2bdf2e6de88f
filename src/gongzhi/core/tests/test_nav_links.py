"""Every entry of the navigation answers, for every role that is shown it."""

import re

import pytest

from gongzhi.accounts.roles import Role
from gongzhi.testing import login_client


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_navigation_entry_answers_for_its_role(tree, role):
    client = login_client(tree.user(role))
    home = client.get("/")
    assert home.status_code == 200
    nav = home.content.decode().split('id="site-nav"', 1)[1].split("</nav>", 1)[0]
    links = sorted(set(re.findall(r'href="(/[^"]*)"', nav)))
    assert links, role
    broken = [(link, client.get(link, follow=True).status_code) for link in links]
    assert [b for b in broken if b[1] != 200] == [], role
