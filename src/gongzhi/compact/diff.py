"""Comparing two texts of a compact, article by article (pure functions).

Articles are numbered by their position (第一条, 第二条 ...). The diff pairs them by number:
an article whose text differs is *changed*, one past the end of the old text is *added*, one
past the end of the new text is *removed*.
"""

from __future__ import annotations

from typing import Any

MAX_ARTICLES = 200
MAX_ARTICLE = 2000


def clean_articles(articles: Any) -> list[str]:
    """A list of non-empty article texts (stripped); raises ValueError when it is not one."""
    if isinstance(articles, str):
        articles = [line for line in articles.replace("\r\n", "\n").split("\n")]
    if not isinstance(articles, list | tuple):
        raise ValueError("articles")
    out = [str(a).strip() for a in articles]
    return [a for a in out if a]


def diff_articles(old: list[str], new: list[str]) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    for i in range(max(len(old), len(new))):
        before = old[i] if i < len(old) else None
        after = new[i] if i < len(new) else None
        if before == after:
            continue
        op = "change" if before is not None and after is not None else (
            "add" if before is None else "remove")
        changes.append({"op": op, "number": i + 1, "before": before, "after": after})
    return changes


CN_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 105 → 一百零五 (up to 999)."""
    if n <= 0 or n >= 1000:
        return str(n)
    hundreds, rest = divmod(n, 100)
    tens, ones = divmod(rest, 10)
    out = ""
    if hundreds:
        out += CN_DIGITS[hundreds] + "百"
        if tens == 0 and ones:
            return out + "零" + CN_DIGITS[ones]
    if tens:
        out += ("" if tens == 1 and not hundreds else CN_DIGITS[tens]) + "十"
    if ones:
        out += CN_DIGITS[ones]
    return out
