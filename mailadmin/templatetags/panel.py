"""Template helpers of the panel: usage bars and query strings."""

from decimal import Decimal
from html import escape

from django import template
from django.utils import formats
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext, pgettext

from mailadmin.lib.sizes import format_size

register = template.Library()


@register.simple_tag
def usage_bar(used, limit, text="", label=None):
    """A <meter> of ``used`` against ``limit`` (no bar when the limit is 0, unlimited).

    Plain string formatting rather than an included template or ``format_html``: a domain page
    shows one per mailbox row.
    """
    used, limit = used or 0, limit or 0
    label = gettext("Usage") if label is None else label
    of = gettext("%(used)s of %(limit)s") % {"used": _number(used), "limit": _number(limit)}
    text = escape(str(text or (of if limit else _number(used))))
    if not limit:
        no_limit = escape(gettext("(no limit)"))
        html = f'<span class="usage-text">{text} <span class="muted">{no_limit}</span></span>'
    else:
        shown = min(used, limit)
        inner = escape(gettext("%(used)s of %(limit)s") % {"used": _number(shown), "limit": _number(limit)})
        html = (
            f'<meter min="0" max="{limit}" low="{limit * 0.75}" high="{limit * 0.9}" optimum="0" value="{shown}" '
            f'aria-label="{escape(str(label))}">{inner}</meter> <span class="usage-text">{text}</span>'
        )
    return mark_safe(f'<span class="usage">{html}</span>')  # noqa: S308 - numbers and escaped text only


@register.simple_tag
def storage_bar(usage_bytes, quota_bytes, label=None):
    """Storage used by a mailbox (or a sum) against a quota, both in bytes."""
    quota, used = quota_bytes or 0, usage_bytes or 0
    text = gettext("%(used)s of %(limit)s") % {"used": size(used), "limit": size(quota)} if quota else size(used)
    return usage_bar(used, quota, text, gettext("Storage") if label is None else label)


def _number(value) -> str:
    """A figure as the page's language writes it (1.5 in English, 1,5 in German and French)."""
    return formats.number_format(Decimal(str(value)) if isinstance(value, str) else value)


def _units() -> dict:
    return {
        "TB": pgettext("size unit", "TB"),
        "GB": pgettext("size unit", "GB"),
        "MB": pgettext("size unit", "MB"),
        "KB": pgettext("size unit", "KB"),
        "bytes": gettext("{} bytes"),
    }


@register.filter
def size(value):
    """Bytes as the panel writes them (512 MB, 1.5 GB); 0 is 0 bytes (use ``quota`` for limits)."""
    return format_size(
        value or 0, zero=ngettext("%(n)s byte", "%(n)s bytes", 0) % {"n": 0}, names=_units(), number=_number
    )


@register.filter
def quota(value):
    """A quota or size limit in bytes: 0 is unlimited."""
    return format_size(value or 0, zero=gettext("unlimited"), names=_units(), number=_number)


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
        ("active", gettext("Active"), mailbox.active),
        ("may_relay", gettext("Relay"), mailbox.may_relay),
        ("filtering", gettext("Filtering"), mailbox.filtering),
    ]
