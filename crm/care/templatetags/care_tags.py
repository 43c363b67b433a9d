"""Template helpers of the care pages, and the opt-out block of the 360° page."""

from __future__ import annotations

from typing import Any

from django import template

from crm.care.forms import OPT_OUT_SOURCES

register = template.Library()


@register.inclusion_tag("care/_optout_block.html", takes_context=True)
def optout_block(context: template.Context, customer: Any, *, can_change: bool) -> dict[str, Any]:
    """Opt the customer out on their request, or restore with how they agreed again (no queries)."""
    request = context.get("request")
    next_url = f"{request.path}#optout" if request is not None else ""
    return {
        "customer": customer,
        "can_change": can_change,
        "sources": OPT_OUT_SOURCES,
        "next": next_url,
        "csrf_token": context.get("csrf_token"),
    }


# Gateways by their business names: staff see which channel carried a message, not the
# adapter's code name.
GATEWAY_LABELS = {
    "aliyun": "阿里云短信",
    "tencent": "腾讯云短信",
    "console": "本机测试通道（未真实发出）",
    "locmem": "测试通道（未真实发出）",
}


@register.filter
def gateway_label(name: str) -> str:
    """ "阿里云短信" for "aliyun"; "" stays "" (the template shows —)."""
    if not name:
        return ""
    return GATEWAY_LABELS.get(name, "其他短信通道")
