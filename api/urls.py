from django.urls import path

import mailadmin.converters  # noqa: F401  (the <id:...> converter)
from api import panel

app_name = "tokens"
urlpatterns = [
    path("me/api-tokens/", panel.token_list, name="list"),
    path("api-tokens/<id:pk>/revoke/", panel.token_revoke, name="revoke"),
]
