"""The answers a hosted domain's own names give (``domains.clientconfig``), before host checks.

Mail programs ask ``autoconfig.<domain>`` and ``autodiscover.<domain>``, sending servers ask
``mta-sts.<domain>``: names the panel's ALLOWED_HOSTS cannot list one by one. This middleware,
first in the chain, answers only those few paths, only for names of hosted, active domains (any
other name: 404), with nothing but the settings' public server data; every other request goes on
to Django's host validation as before.
"""

from __future__ import annotations

from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseNotFound

from domains import clientconfig
from mailadmin.lib.addresses import AddressError, normalize_address
from mailadmin.lib.numbers import NumberError, parse_int

AUTOCONFIG = {"/mail/config-v1.1.xml", "/.well-known/autoconfig/mail/config-v1.1.xml"}
AUTODISCOVER = {"/autodiscover/autodiscover.xml"}
MTA_STS = {"/.well-known/mta-sts.txt"}
MAX_BODY = 64 * 1024


class DomainNamesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info.lower()
        if path in AUTOCONFIG:
            return self._autoconfig(request)
        if path in AUTODISCOVER:
            return self._autodiscover(request)
        if path in MTA_STS:
            return self._mta_sts(request)
        return self.get_response(request)

    @staticmethod
    def _host(request) -> str:
        return request.META.get("HTTP_HOST", "")

    def _autoconfig(self, request):
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        domain = _domain_of_address(request.GET.get("emailaddress", "")) or clientconfig.domain_of_host(
            self._host(request)
        )
        if domain is None:
            return HttpResponseNotFound("No such mail domain here.", content_type="text/plain")
        return HttpResponse(clientconfig.autoconfig_xml(domain), content_type="application/xml; charset=utf-8")

    def _autodiscover(self, request):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        try:
            too_large = parse_int(request.META.get("CONTENT_LENGTH") or "0", minimum=0) > MAX_BODY
        except NumberError:
            return HttpResponse("Bad Content-Length.", status=400, content_type="text/plain")
        if too_large:
            return HttpResponse("Request too large.", status=413, content_type="text/plain")
        address = clientconfig.requested_address(request.body[:MAX_BODY])
        if _domain_of_address(address) is None:
            return HttpResponseNotFound("No such mail domain here.", content_type="text/plain")
        canonical = normalize_address(address)
        return HttpResponse(clientconfig.autodiscover_xml(canonical), content_type="application/xml; charset=utf-8")

    def _mta_sts(self, request):
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        host = self._host(request).split(":")[0].lower().rstrip(".")
        domain = clientconfig.domain_of_host(host) if host.startswith("mta-sts.") else None
        if domain is None:
            return HttpResponseNotFound("No MTA-STS policy for this name.", content_type="text/plain")
        return HttpResponse(clientconfig.mta_sts_policy(), content_type="text/plain; charset=utf-8")


def _domain_of_address(address: str):
    try:
        canonical = normalize_address(address)
    except AddressError:
        return None
    return clientconfig.domain_of_host(canonical.rpartition("@")[2]) if canonical else None
