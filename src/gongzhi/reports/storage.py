"""Where export files live: a private directory, never served under ``MEDIA_URL``.

``REPORTS_EXPORT_ROOT`` (default ``<GONGZHI_DATA_DIR>/private/exports``) is read at each call,
so operators and tests may move it. Files are handed out only by the download view and API.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage


def root() -> Path:
    configured = getattr(settings, "REPORTS_EXPORT_ROOT", None)
    return Path(configured) if configured else Path(settings.DATA_DIR) / "private" / "exports"


def storage() -> FileSystemStorage:
    # base_url None: the storage has no URL; nothing here is public.
    return FileSystemStorage(location=root(), base_url=None)


def save(name: str, data: bytes) -> str:
    return storage().save(name, ContentFile(data))


def open_file(name: str):
    return storage().open(name, "rb")


def delete(name: str) -> None:
    if name:
        storage().delete(name)  # a missing file is not an error
