"""The panel's URLs plus one empty page, for bench/pages.py only (never in the shipped URLconf).

``/bench/empty/`` does nothing but answer: like every panel page it sits behind
LoginRequiredMiddleware, so a request to it costs what any logged-in request costs
(middleware, session, user) and nothing more. bench/pages.py measures the domain page
against it in the same run.
"""

from django.http import HttpResponse
from django.urls import include, path


def empty(request):
    return HttpResponse("", content_type="text/plain")


urlpatterns = [
    path("bench/empty/", empty, name="bench_empty"),
    path("", include("mailadmin.urls")),
]
