"""Helpers the panel's views share: the client address, service calls, a service's errors on a form, pages,
links.

(The fetch-and-check helpers, ``get_*_for``, live with their models: ``domains.shortcuts``,
``accounts.shortcuts``, ``aliases.shortcuts``.)
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Count, Window
from django.db.models.expressions import RawSQL
from django.shortcuts import render
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext

from mailadmin.lib.addresses import AddressError, normalize_address
from mailadmin.lib.clients import client_address
from mailadmin.permissions import require  # noqa: F401 - the views take it from here


def client_ip(request) -> str | None:
    """The client's own address, or None when it is not known (``mailadmin.lib.clients``).

    django-axes counts login failures per client only when this is known.
    """
    return client_address(
        request.META.get("REMOTE_ADDR", ""),
        request.META.get("HTTP_X_FORWARDED_FOR", ""),
        trusted=settings.TRUSTED_PROXIES,
        direct=settings.CLIENTS_CONNECT_DIRECTLY,
    )


def origin(request) -> str:
    """What the audit log records as where a panel change came from: the client, else the connection."""
    return client_ip(request) or request.META.get("REMOTE_ADDR") or "unknown"


def login_username(request, credentials) -> str:
    """The canonical address for django-axes, so Foo@Example.ORG and foo@example.org share a counter."""
    raw = (credentials or {}).get("username") if credentials else None
    if raw is None and request is not None:
        raw = request.POST.get("username", "")
    raw = (raw or "")[:254]
    try:
        return normalize_address(raw)
    except AddressError:
        return raw.strip().lower()


def render_secret(request, template: str, context: dict):
    """A page that shows a secret (a new password, recovery codes, a token) on this answer only:
    rendered like any page and marked never to be cached by the browser or a proxy."""
    response = render(request, template, context)
    add_never_cache_headers(response)
    return response


def add_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: on its field when the form has one, else on top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            name = field if field in form.fields else None
            for error in errors:
                for message in error.messages:
                    if not name and field != NON_FIELD_ERRORS:  # named, with the language's separator
                        message = gettext("%(field)s: %(message)s") % {
                            "field": field.replace("_", " "),
                            "message": message,
                        }
                    form.add_error(name, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def call_service(form, service, /, **kwargs):
    """Call ``service``; a ValidationError goes onto ``form`` and the result is None."""
    try:
        return service(**kwargs)
    except ValidationError as exc:
        add_errors(form, exc)
        return None


# --- Pages of a long list: the same cost on every page, the same number of queries for any ---
#
# Django's ``Paginator`` counts the rows (``COUNT(*)``), then reads whole rows through
# ``LIMIT/OFFSET``: a deep page makes the database read, and throw away, every full row before it.
#
# ``page_of`` reads the page's rows through their ids alone, ordered on an index through the OFFSET:
# in one query when the caller knows the total already (the page shows it anyway: the ids are a
# derived table of the rows' query), else in two (a search: the ids with their total, ``COUNT(*)
# OVER ()``, then the rows); a page number past the end then costs one query more: the last page's
# rows and the total, read backwards. A count known to be 0 reads nothing. ``ids_first=False``
# reads the rows through the OFFSET itself (for lists of few or small rows). The result is
# Django's ``Page``, so templates and tests read it as before (``page.paginator.count``,
# ``page.number`` ...), and a page number is read as ``Paginator.get_page`` reads it: not a number
# is the first page, out of range the last.

LARGEST_OFFSET = 2**62  # beyond any table: a larger page number is past the end without asking


def page_of(queryset, number, *, per_page: int, count: int | None = None, ids_first: bool = True) -> Page:
    """Page ``number`` of ``queryset`` (ordered; its annotations are what the rows show).

    ``count``: how many rows ``queryset`` has, when already known.
    """
    paginator = Paginator(queryset, per_page)
    if count is not None:
        paginator.count = count
        number = paginator.get_page(number).number  # checked against the known count: no query
    else:
        number = _number(number)
    start = (number - 1) * per_page
    if ids_first:
        return _page_by_ids(queryset, paginator, number, start, count)
    source = queryset
    if count is None:
        source = source.annotate(page_total=Window(Count("pk")))
    found = list(source[start : start + per_page]) if 0 <= start < LARGEST_OFFSET and count != 0 else []
    if count is None:
        if not found and number != 1:  # past the end (or below 1): the last page, as get_page answers
            return _last_page(queryset, paginator)
        paginator.count = found[0].page_total if found else 0
    return paginator._get_page(found, number, paginator)


def _page_by_ids(queryset, paginator, number: int, start: int, count: int | None) -> Page:
    """The rows whose ids the page's ``LIMIT/OFFSET`` reads from the index. With a known count, one
    query: the ids as a derived table (MariaDB refuses ``IN (SELECT ... LIMIT)`` but takes ``IN
    (SELECT * FROM (...))``), those of a page past the middle read in reverse order from the end, so
    the order must be total (a unique key, as a domain's local parts are). Without one (a search),
    the ids and their total first (``COUNT(*) OVER ()``), then the rows: counting in the rows' query
    instead made the database filter the domain's index entries twice (a search of the
    10,000-mailbox domain took 19 ms instead of 14.5)."""
    if count == 0:
        return paginator._get_page([], number, paginator)
    if not 0 <= start < LARGEST_OFFSET:  # (only without a count: with one, the number was checked)
        return _last_page(queryset, paginator)
    end = start + paginator.per_page
    if count is not None:
        ids = queryset.values("pk")
        # (a page in the back half is read from the end: the index walks past count - end entries
        # instead of start, 0 instead of 9,950 for the last of 10,000; its rows come back in order)
        ids = ids.reverse()[max(count - end, 0) : count - start] if count - end < start else ids[start:end]
        sql, params = ids.query.sql_with_params()
        ids = RawSQL(f"SELECT * FROM ({sql}) page_ids", params)  # noqa: S611 - Django's own SQL
        return paginator._get_page(list(queryset.filter(pk__in=ids)), number, paginator)
    found = list(queryset.annotate(page_total=Window(Count("pk"))).values_list("pk", "page_total")[start:end])
    if not found and number != 1:  # past the end (or below 1): the last page, as get_page answers
        return _last_page(queryset, paginator)
    paginator.count = found[0][1] if found else 0
    rows = {_pk(row): row for row in queryset.filter(pk__in=[pk for pk, _ in found]).order_by()}
    return paginator._get_page([rows[pk] for pk, _ in found if pk in rows], number, paginator)


def _pk(row):
    return row["pk"] if isinstance(row, dict) else row.pk  # (a model instance, or a ``values()`` row)


def _last_page(queryset, paginator) -> Page:
    """The last page's rows and the total in one query: the first rows in reverse order."""
    rows = list(queryset.reverse().annotate(page_total=Window(Count("pk")))[: paginator.per_page])
    paginator.count = (rows[0]["page_total"] if isinstance(rows[0], dict) else rows[0].page_total) if rows else 0
    last = paginator.num_pages
    return paginator._get_page(rows[: paginator.count - (last - 1) * paginator.per_page][::-1], last, paginator)


def _number(value) -> int:
    """A page number as ``Paginator.validate_number`` reads it (not a number: 1; below 1: out of range)."""
    try:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        return 1


_PK = "987654321987654321"  # (where a pk goes in a URL reversed once for many)


def url_for_each(name: str, *args):
    """``reverse(name, args=[pk, *args])`` for any pk, as a function of the pk: the URL is reversed once
    (``link``) and the pk put in its place. A domain page has hundreds of row links."""
    url = link(name, _PK, *args)
    return lambda pk: url.replace(_PK, str(pk))


def link(name: str, *args) -> str:
    """``reverse(name, args=args)``, remembered per name, arguments, URLconf and script prefix:
    ``reverse()`` took 26 µs, and a domain page has 20 links of its own (its tag: ``{% link %}``,
    ``mailadmin.templatetags.panel``). For arguments of few values (a pk goes through
    ``url_for_each``)."""
    return _reversed(name, tuple(map(str, args)), get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())


@functools.lru_cache(maxsize=512)
def _reversed(name: str, args: tuple, urlconf: str, prefix: str) -> str:
    return reverse(name, urlconf=urlconf, args=args)
