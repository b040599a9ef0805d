"""Root URLs of the panel."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from accounts import views as account_views
from api.views import urls as api_urls
from mailadmin import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", account_views.LoginView.as_view(), name="login"),
    path("login/verify/", account_views.login_verify, name="login_verify"),
    path("login/verify/key/", account_views.login_key_options, name="login_key_options"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The language switcher (a POST with the CSRF token; the choice is kept in a cookie, and
    # the answer goes back to the page it came from, on this host only).
    path("language/", login_not_required(set_language), name="set_language"),
    path("audit/", views.audit_list, name="audit"),
    path("", include("domains.urls")),
    path("", include("accounts.urls")),
    path("", include("aliases.urls")),
    path("", include("vacation.urls")),
    path("", include("policy.urls")),
    path("", include("mailserver.urls")),
    path("", include("api.urls")),
    path("api/v1/", api_urls()),
]

handler500 = "mailadmin.views.server_error"
