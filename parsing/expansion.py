"""Short-link expansion in the worker (placeholder until the platform extractors land)."""

from __future__ import annotations

from .extractors.base import UnsupportedLink
from .recognition import Recognition


def resolve(target: Recognition) -> Recognition:
    """Follow a short link to the post it names; raises an ExtractorError when it cannot."""
    raise UnsupportedLink(reason="short_link_unavailable")
