"""The English catalogue: complete, not fuzzy, placeholders intact; and pages switch to English.

Source strings are Simplified Chinese; English is the second language. The catalogue is read
with a small parser of the gettext PO format so that the test needs nothing beyond the standard
library.
"""

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from gongzhi.matters.actions import do_raise_matter, matter_settings
from gongzhi.matters.models import Category
from gongzhi.testing import login_client

PO_FILE = Path(__file__).resolve().parents[2] / "locale" / "en" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")
ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}


def _unquote(text: str) -> str:
    body = text.strip()
    assert body.startswith('"') and body.endswith('"'), text
    return re.sub(r"\\(.)", lambda m: ESCAPES[m.group(1)], body[1:-1])


def parse_po(path: Path) -> list[dict]:
    """Entries of a PO file as dicts: ``flags`` (a set), ``msgid``, ``msgid_plural``,
    ``msgstr`` or ``msgstr[N]``. Obsolete (``#~``) entries are skipped."""
    entries, entry, field = [], None, None
    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line:
            if entry and "msgid" in entry and not entry.get("obsolete"):
                entries.append(entry)
            entry, field = None, None
            continue
        entry = entry if entry is not None else {"flags": set()}
        if line.startswith("#~"):
            entry["obsolete"] = True
        elif line.startswith("#,"):
            entry["flags"].update(f.strip() for f in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[field] += _unquote(line)
        else:
            field, _space, value = line.partition(" ")
            entry[field] = _unquote(value)
    return entries


def _msgstrs(entry: dict) -> list[str]:
    if "msgid_plural" in entry:
        return [v for k, v in sorted(entry.items()) if k.startswith("msgstr[")]
    return [entry["msgstr"]]


@pytest.fixture(scope="module")
def catalogue():
    return [e for e in parse_po(PO_FILE) if e["msgid"]]  # without the header


def test_the_parser_reads_entries_flags_and_continued_lines(tmp_path):
    po = tmp_path / "t.po"
    po.write_text('msgid ""\nmsgstr "Language: en\\n"\n\n'
                  '#: a.py\n#, fuzzy, python-format\nmsgid "第%(n)s行"\nmsgstr ""\n"Row %(n)s"\n\n'
                  'msgid "一"\nmsgid_plural "多"\nmsgstr[0] "one"\nmsgstr[1] ""\n\n'
                  '#~ msgid "旧"\n#~ msgstr "old"\n', encoding="utf-8")
    header, row, plural = parse_po(po)
    assert header["msgstr"] == "Language: en\n"
    assert row["flags"] == {"fuzzy", "python-format"} and row["msgstr"] == "Row %(n)s"
    assert _msgstrs(plural) == ["one", ""]


def test_the_catalogue_is_translated_and_nothing_is_fuzzy(catalogue):
    assert len(catalogue) > 1000
    untranslated = [e["msgid"] for e in catalogue if not all(_msgstrs(e))]
    translated = len(catalogue) - len(untranslated)
    assert translated / len(catalogue) >= 0.99, untranslated[:20]
    fuzzy = [e["msgid"] for e in catalogue if "fuzzy" in e["flags"]]
    assert not fuzzy, fuzzy[:20]


def test_every_translation_keeps_the_placeholders_of_its_source(catalogue):
    broken = []
    for e in catalogue:
        source = set(PLACEHOLDER.findall(e["msgid"] + e.get("msgid_plural", "")))
        forms = [s for s in _msgstrs(e) if s]
        for i, text in enumerate(forms):
            found = set(PLACEHOLDER.findall(text))
            # A singular form may leave the count out ("one topic"); the last form may not.
            if found - source or (i == len(forms) - 1 and found != source):
                broken.append((e["msgid"], text))
    assert not broken, broken[:20]


def _english(client: Client) -> Client:
    r = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert r.status_code == 302
    return client


def _assert_english(response, english: tuple[str, ...], chinese: tuple[str, ...]):
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    for text in english:
        assert text in html, text
    for text in chinese:
        assert text not in html, text


def test_the_workbench_home_in_english(tree):
    client = _english(login_client(tree.user("village_secretary")))
    _assert_english(client.get(reverse("home")),
                    ("Workbench", "My roles", "Sign out", "Village (community) secretary"),
                    ("工作台", "我的角色", "退出登录"))


def test_a_matter_page_in_english(tree):
    matter_settings(tree.county)
    matter = do_raise_matter(
        place=tree.grid, title="村口路灯不亮", text="村口路灯坏了一个月。", channel="walk_in",
        ledger="claim", acting_user=tree.user("grid_worker"), reporter_name="钱七妹",
        reporter_phone="13600001234",
        category=Category.objects.get(county=tree.county, code="infrastructure"))
    client = _english(login_client(tree.user("village_secretary")))
    r = client.get(reverse("matters:detail", args=[matter.pk]))
    _assert_english(r, ("Current stage", "Handling history", "Claim", "Stage deadline",
                        "Record progress"),
                    ("当前环节", "办理经过", "利益诉求", "本环节时限", "记录办理进展"))
    # The matter's own words are data, not interface: they stay as written.
    assert "村口路灯不亮" in r.content.decode()


def test_the_public_raise_page_in_english(tree):
    matter_settings(tree.county)
    client = _english(Client())
    r = client.get(reverse("matters_public:raise", args=[tree.county.pk]))
    _assert_english(r, ("Suggestion", "Claim", "Complaint", "Raise anonymously",
                        "Your identity is protected", "How to contact you"),
                    ("意见建议", "利益诉求", "投诉举报", "匿名反映", "您的身份会被保护",
                     "怎么联系您"))


def test_switching_back_restores_chinese(tree):
    client = _english(login_client(tree.user("village_secretary")))
    assert "My roles" in client.get(reverse("home")).content.decode()
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert "我的角色" in client.get(reverse("home")).content.decode()
