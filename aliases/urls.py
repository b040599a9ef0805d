from django.urls import path

import mailadmin.converters  # noqa: F401  (the <id:...> converter)
from aliases import views

app_name = "aliases"
urlpatterns = [
    path("domains/<id:pk>/aliases/new/", views.alias_create, name="create"),
    path("domains/<id:pk>/aliases/bulk/", views.alias_bulk_create, name="bulk_create"),
    path("aliases/<id:pk>/", views.alias_detail, name="detail"),
    path("aliases/<id:pk>/toggle/", views.alias_toggle, name="toggle"),
    path("aliases/<id:pk>/delete/", views.alias_delete, name="delete"),
]
