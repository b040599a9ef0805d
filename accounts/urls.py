from django.urls import path

import mailadmin.converters  # noqa: F401  (the <id:...> converter)
from accounts import views

app_name = "accounts"
urlpatterns = [
    path("me/", views.me, name="me"),
    path("me/password/", views.password_change, name="password_change"),
    path("me/forwarding/", views.own_forwarding, name="own_forwarding"),
    path("me/mail.mobileconfig", views.own_mail_profile, name="own_profile"),
    path("me/two-factor/", views.two_factor, name="two_factor"),
    path("me/two-factor/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("me/two-factor/remove/", views.two_factor_remove, name="two_factor_remove"),
    path("me/two-factor/recovery-codes/", views.two_factor_codes, name="two_factor_codes"),
    path("me/two-factor/keys/options/", views.two_factor_key_options, name="two_factor_key_options"),
    path("me/two-factor/keys/", views.two_factor_key_add, name="two_factor_key_add"),
    path("me/two-factor/keys/<id:pk>/remove/", views.two_factor_key_remove, name="two_factor_key_remove"),
    path("me/app-passwords/", views.app_passwords, name="app_passwords"),
    path("app-passwords/<id:pk>/revoke/", views.app_password_revoke, name="app_password_revoke"),
    path("mailboxes/<id:pk>/two-factor/reset/", views.mailbox_two_factor_reset, name="two_factor_reset"),
    path("mailboxes/<id:pk>/forwarding/", views.mailbox_forwarding, name="forwarding"),
    path("mailboxes/<id:pk>/", views.mailbox_detail, name="detail"),
    path("mailboxes/<id:pk>/password/", views.mailbox_password, name="password"),
    path("mailboxes/<id:pk>/toggle/<slug:flag>/", views.mailbox_toggle, name="toggle"),
    path("mailboxes/<id:pk>/delete/", views.mailbox_delete, name="delete"),
    path("domains/<id:pk>/mailboxes/new/", views.mailbox_create, name="create"),
    path("domains/<id:pk>/mailboxes/bulk/", views.mailbox_bulk_create, name="bulk_create"),
    path("domains/<id:pk>/mailboxes/bulk-update/", views.mailbox_bulk_update, name="bulk_update"),
    path("domains/<id:pk>/mailboxes/bulk-delete/", views.mailbox_bulk_delete, name="bulk_delete"),
    path("domains/<id:pk>/mailboxes/export.csv", views.mailbox_export, name="export"),
    path("domains/<id:pk>/mailboxes/import/", views.mailbox_import, name="import"),
    path("jobs/<id:pk>/", views.job_detail, name="job"),
    path("domains/<id:pk>/deleted-mailboxes/", views.archive_list, name="archives"),
    path("deleted-mailboxes/<id:pk>/restore/", views.archive_restore, name="restore"),
    path(
        "domains/<id:pk>/deleted-mailboxes/<id:archive_pk>/restore-here/",
        views.archive_restore_into,
        name="restore_into",
    ),
]
