"""Template helpers of the panel: usage bars and query strings."""

from html import escape

from django import template
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from mailadmin.lib.sizes import format_size

register = template.Library()


@register.simple_tag
def usage_bar(used, limit, text="", label="Usage"):
    """A <meter> of ``used`` against ``limit`` (no bar when the limit is 0, unlimited).

    Plain string formatting rather than an included template or ``format_html``: a domain page
    shows one per mailbox row.
    """
    used, limit = used or 0, limit or 0
    text = escape(str(text or (f"{used} of {limit}" if limit else f"{used}")))
    if not limit:
        html = f'<span class="usage-text">{text} <span class="muted">(no limit)</span></span>'
    else:
        shown = min(used, limit)
        html = (
            f'<meter min="0" max="{limit}" low="{limit * 0.75}" high="{limit * 0.9}" optimum="0" value="{shown}" '
            f'aria-label="{escape(str(label))}">{shown} of {limit}</meter> <span class="usage-text">{text}</span>'
        )
    return mark_safe(f'<span class="usage">{html}</span>')  # noqa: S308 - numbers and escaped text only


@register.simple_tag
def storage_bar(usage_bytes, quota_bytes, label="Storage"):
    """Storage used by a mailbox (or a sum) against a quota, both in bytes."""
    quota, used = quota_bytes or 0, usage_bytes or 0
    text = f"{size(used)} of {size(quota)}" if quota else size(used)
    return usage_bar(used, quota, text, label)


@register.filter
def size(value):
    """Bytes as the panel writes them (512 MB, 1.5 GB); 0 is 0 bytes (use ``quota`` for limits)."""
    return format_size(value or 0, zero="0 bytes")


@register.filter
def quota(value):
    """A quota or size limit in bytes: 0 is unlimited."""
    return format_size(value or 0)


@register.simple_tag(takes_context=True)
def query_without(context, *names):
    """The current query string without ``names``, ending in & when not empty (for paging links)."""
    params = context["request"].GET.copy()
    for name in names:
        params.pop(name, None)
    encoded = urlencode(list(params.lists()), doseq=True)
    return f"{encoded}&" if encoded else ""


@register.filter
def flags(mailbox):
    """(flag, label, value) of a mailbox's three switches, for the toggle buttons."""
    return [
        ("active", "Active", mailbox.active),
        ("may_relay", "Relay", mailbox.may_relay),
        ("filtering", "Filtering", mailbox.filtering),
    ]
