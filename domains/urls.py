from django.urls import path

import mailadmin.converters  # noqa: F401  (the <id:...> converter)
from domains import views

app_name = "domains"
urlpatterns = [
    path("domains/", views.domain_list, name="list"),
    path("domains/new/", views.domain_create, name="create"),
    path("domains/<id:pk>/", views.domain_detail, name="detail"),
    path("domains/<id:pk>/settings/", views.domain_settings, name="settings"),
    path("domains/<id:pk>/dns/", views.domain_dns, name="dns"),
    path("domains/<id:pk>/relay-recipients/", views.relay_recipients, name="relay_recipients"),
    path("relay-recipients/<id:pk>/delete/", views.relay_recipient_delete, name="relay_recipient_delete"),
    path("domains/<id:pk>/delete/", views.domain_delete, name="delete"),
    path("domains/<id:pk>/domain-aliases/new/", views.domain_alias_create, name="alias_create"),
    path("domain-aliases/<id:pk>/toggle/", views.domain_alias_toggle, name="alias_toggle"),
    path("domain-aliases/<id:pk>/delete/", views.domain_alias_delete, name="alias_delete"),
    path("grants/", views.grant_list, name="grants"),
    path("grants/new/", views.grant_create, name="grant_create"),
    path("grants/<id:pk>/", views.grant_edit, name="grant_edit"),
    path("grants/<id:pk>/delete/", views.grant_delete, name="grant_delete"),
]
