"""Messages per event, channel and language, from Django templates under
``templates/notifications/messages/<event>/``:

- ``sms.<lang>.txt`` — one short text;
- ``email_subject.<lang>.txt`` and ``email.<lang>.txt``;
- ``wechat.<lang>.txt`` — one ``field: value`` line per template field.

``<event>`` is the event name with dots as underscores; ``<lang>`` is ``zh-hans`` or ``en``.
An event without templates falls back to the caller's title and body.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.template import TemplateDoesNotExist, TemplateSyntaxError, VariableDoesNotExist
from django.template.loader import render_to_string
from django.utils import translation

log = logging.getLogger(__name__)


@dataclass
class Rendered:
    subject: str
    body: str
    data: dict[str, str] = field(default_factory=dict)


def _render(event: str, name: str, lang: str, context: dict[str, Any]) -> str | None:
    path = f"notifications/messages/{event.replace('.', '_')}/{name}.{lang}.txt"
    try:
        with translation.override(lang):
            return render_to_string(path, context).strip()
    except TemplateDoesNotExist:
        return None
    except (TemplateSyntaxError, VariableDoesNotExist, AttributeError, TypeError,
            ValueError) as exc:
        log.warning("message template %s failed: %s", path, exc)
        return None


def render(event: str, channel: str, lang: str, context: dict[str, Any]) -> Rendered:
    title, body = str(context.get("title", "")), str(context.get("body", ""))
    if channel == "sms":
        text = _render(event, "sms", lang, context)
        return Rendered("", text if text is not None else (title + (" " + body if body else "")))
    if channel == "email":
        subject = _render(event, "email_subject", lang, context)
        text = _render(event, "email", lang, context)
        return Rendered((subject or title).splitlines()[0][:200] if (subject or title) else "",
                        text if text is not None else (body or title))
    if channel == "wechat":
        text = _render(event, "wechat", lang, context)
        data: dict[str, str] = {}
        if text is None:
            data = {"first": title, "remark": body}
        else:
            for line in text.splitlines():
                key, sep, value = line.partition(":")
                if sep and key.strip():
                    data[key.strip()] = value.strip()
        return Rendered(title, "\n".join(f"{k}: {v}" for k, v in data.items()), data)
    return Rendered(title, body or title)
