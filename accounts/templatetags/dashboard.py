"""Small display helpers for the dashboard templates."""

import datetime as dt
import re

from django import template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince

from parsing.labels import PLATFORM_COLORS, platform_label

register = template.Library()


@register.filter
def platform_name(platform: str) -> str:
    return platform_label(platform)


@register.filter
def platform_color(platform: str) -> str:
    return PLATFORM_COLORS.get(platform, "#888")


@register.filter
def inline_code(text: str) -> SafeString:
    """Escape the text and show `backticked` words as code, as the API docs write them."""
    return mark_safe(re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text)))


@register.filter
def ago(moment: dt.datetime | None) -> str:
    """"just now", "5 minutes ago", "2 days ago"; empty for None."""
    if moment is None:
        return ""
    if timezone.now() - moment < dt.timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment, depth=1)} ago"


@register.filter
def signed(amount: int) -> str:
    """A ledger amount with its sign: +100, −1 (a real minus sign, so it reads as one)."""
    return f"+{amount}" if amount > 0 else f"−{abs(amount)}" if amount < 0 else "0"


@register.filter
def get_item(mapping: dict, key: object) -> object:
    """``mapping[key]``, or None: a dict looked up by a variable in a template."""
    return mapping.get(key) if isinstance(mapping, dict) else None
