"""URLs: the helpers templates build row and tag links with, and the open-redirect guard.

`row_url` and `tag_url` are a framework seam (app/seams/row_urls.py: one route build per
process instead of one per row); templates and tests reach them here.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from app.seams.row_urls import row_url, tag_url

__all__ = ["row_url", "safe_next", "tag_url"]


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (open-redirect guard)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
