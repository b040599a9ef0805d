from django.urls import path

import mailadmin.converters  # noqa: F401  (the <id:...> converter)
from vacation import views

app_name = "vacation"
urlpatterns = [
    path("me/vacation/", views.own_vacation, name="own"),
    path("mailboxes/<id:pk>/vacation/", views.mailbox_vacation, name="mailbox"),
]
