from django.urls import path

import mailadmin.converters  # noqa: F401  (the <id:...> converter)
from policy import views

app_name = "policy"
urlpatterns = [
    path("me/senders/", views.own_senders, name="own_senders"),
    path("mailboxes/<id:pk>/senders/", views.mailbox_senders, name="mailbox_senders"),
    path("domains/<id:pk>/senders/", views.domain_senders, name="domain_senders"),
    path("senders/<id:pk>/delete/", views.sender_delete, name="sender_delete"),
    path("blocklists/", views.blocklists, name="blocklists"),
    path("blocklists/<id:pk>/", views.blocklist_edit, name="blocklist_edit"),
    path("blocklists/<id:pk>/delete/", views.blocklist_delete, name="blocklist_delete"),
    path("greylisting/", views.greylisting, name="greylisting"),
    path("greylisting/allowed/<id:pk>/delete/", views.greylist_allow_delete, name="greylist_allow_delete"),
]
