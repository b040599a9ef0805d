"""Template helpers of the panel: usage bars, query strings and links."""

from decimal import Decimal
from html import escape

from django import template
from django.utils import formats, numberformat
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext, ngettext, pgettext

from mailadmin import shortcuts
from mailadmin.lib.sizes import format_size

register = template.Library()


@register.simple_tag
def link(name, pk=None, *args):
    """``{% url name pk *args %}`` from a URL reversed once (``mailadmin.shortcuts.link``): for the
    panel's menu and a domain page's own links, which every request renders."""
    return shortcuts.link(name) if pk is None else shortcuts.url_for_each(name, *args)(pk)


@register.simple_tag
def usage_bar(used, limit, text="", label=None):
    """A <meter> of ``used`` against ``limit`` (no bar when the limit is 0, unlimited).

    Plain string formatting rather than an included template or ``format_html``, and the words
    and number format of the language looked up once (``_language``): a domain page shows one
    per mailbox row.
    """
    return _usage_bar(_language(), used, limit, text, label)


def _usage_bar(words: dict, used, limit, text="", label=None) -> str:
    number = words["number"]
    used, limit = used or 0, limit or 0
    label = words["usage"] if label is None else label
    text = escape(
        str(text or (words["of"] % {"used": number(used), "limit": number(limit)} if limit else number(used)))
    )
    if not limit:
        html = f'<span class="usage-text">{text} <span class="muted">{words["no_limit"]}</span></span>'
    else:
        shown = min(used, limit)
        inner = escape(words["of"] % {"used": number(shown), "limit": number(limit)})
        html = (
            f'<meter min="0" max="{limit}" low="{limit * 0.75}" high="{limit * 0.9}" optimum="0" value="{shown}" '
            f'aria-label="{escape(str(label))}">{inner}</meter> <span class="usage-text">{text}</span>'
        )
    return mark_safe(f'<span class="usage">{html}</span>')  # noqa: S308 - numbers and escaped text only


@register.simple_tag
def storage_bar(usage_bytes, quota_bytes, label=None):
    """Storage used by a mailbox (or a sum) against a quota, both in bytes."""
    words = _language()  # (once: a domain page draws 50 of these)
    quota, used = quota_bytes or 0, usage_bytes or 0
    text = words["of"] % {"used": _size(words, used), "limit": _size(words, quota)} if quota else _size(words, used)
    return _usage_bar(words, used, quota, text, words["storage"] if label is None else label)


@register.filter
def size(value):
    """Bytes as the panel writes them (512 MB, 1.5 GB); 0 is 0 bytes (use ``quota`` for limits)."""
    return _size(_language(), value)


def _size(words: dict, value) -> str:
    return format_size(value or 0, zero=words["zero_bytes"], names=words["units"], number=words["number"])


@register.filter
def quota(value):
    """A quota or size limit in bytes: 0 is unlimited."""
    words = _language()
    return format_size(value or 0, zero=words["unlimited"], names=words["units"], number=words["number"])


def size_units() -> dict:
    """The size units' names in the active language (``format_size``'s ``names``), for others
    that write sizes (the statistics charts)."""
    return _language()["units"]


_LANGUAGES: dict = {}


def _language() -> dict:
    """The active language's words and number format for the bars and sizes, looked up once per
    language in a process (catalogues and formats do not change while it runs): a page of 50
    mailboxes draws 50 bars and 100 sizes, and asking the catalogue and the format settings for
    each one cost the domain page 15-20 % of its time (bench/pages.py)."""
    code = get_language()
    words = _LANGUAGES.get(code)
    if words is None:
        decimal, thousands, grouping = (
            formats.get_format(name) for name in ("DECIMAL_SEPARATOR", "THOUSAND_SEPARATOR", "NUMBER_GROUPING")
        )

        def number(value) -> str:
            """A figure as the language writes it (1.5 in English, 1,5 in German and French)."""
            value = Decimal(value) if isinstance(value, str) else value
            return numberformat.format(value, decimal, grouping=grouping, thousand_sep=thousands, use_l10n=True)

        words = _LANGUAGES[code] = {
            "number": number,
            "usage": gettext("Usage"),
            "storage": gettext("Storage"),
            "of": gettext("%(used)s of %(limit)s"),
            "no_limit": escape(gettext("(no limit)")),
            "units": {
                "TB": pgettext("size unit", "TB"),
                "GB": pgettext("size unit", "GB"),
                "MB": pgettext("size unit", "MB"),
                "KB": pgettext("size unit", "KB"),
                "bytes": gettext("{} bytes"),
            },
            "zero_bytes": ngettext("%(n)s byte", "%(n)s bytes", 0) % {"n": 0},
            "unlimited": gettext("unlimited"),
        }
    return words


@register.simple_tag(takes_context=True)
def query_without(context, *names):
    """The current query string without ``names``, ending in & when not empty (for paging links)."""
    params = context["request"].GET.copy()
    for name in names:
        params.pop(name, None)
    encoded = urlencode(list(params.lists()), doseq=True)
    return f"{encoded}&" if encoded else ""
