"""List endpoints page by ``limit`` and ``offset`` and answer ``{"items": [...], "count": N}``."""

from typing import Any

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

from .params import MAX_OFFSET

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class Pagination(LimitOffsetPagination):
    """``limit`` defaults to 50 and may be at most 200 (a larger one is refused with 422)."""

    class Input(Schema):
        limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT,
                           description=f"items per page, at most {MAX_LIMIT}")
        offset: int = Field(0, ge=0, le=MAX_OFFSET, description="items to skip")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_limit=MAX_LIMIT, **kwargs)
