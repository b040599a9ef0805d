from django.urls import path

import mailadmin.converters  # noqa: F401  (the <id:...> converter)
from mailserver import views

app_name = "mailserver"
urlpatterns = [
    path("statistics/", views.server_statistics, name="statistics"),
    path("domains/<id:pk>/statistics/", views.domain_statistics, name="domain_statistics"),
    path("mailboxes/<id:pk>/statistics/", views.mailbox_statistics, name="mailbox_statistics"),
]
