import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from vacation.models import Vacation
from vacation.services import vacation_set

pytestmark = pytest.mark.django_db


def test_switching_off_keeps_the_custom_text_and_default_clears_it(personas):
    box = personas.user
    vacation_set(origin="test", acting_user=box, mailbox=box, mode="custom", subject="Away", body="Back on Monday ✈")
    vacation_set(origin="test", acting_user=box, mailbox=box, mode="off")
    v = Vacation.objects.get(mailbox=box)
    assert (v.mode, v.subject, v.body) == ("off", "Away", "Back on Monday ✈")
    vacation_set(origin="test", acting_user=box, mailbox=box, mode="default")
    v.refresh_from_db()
    assert (v.mode, v.subject, v.body) == ("default", "", "")


@pytest.mark.parametrize("subject", ["Away\r\nBcc: victim@example.net", "Away\nX: y", "Away\x00"])
def test_header_injection_in_the_subject_is_refused(personas, subject):
    with pytest.raises(ValidationError, match="single line|control"):
        vacation_set(
            origin="test", acting_user=personas.user, mailbox=personas.user, mode="custom", subject=subject, body="b"
        )
    assert not Vacation.objects.filter(mode="custom").exists()


def test_dates_must_be_in_order(personas):
    with pytest.raises(ValidationError, match="last day cannot be before"):
        vacation_set(
            origin="test",
            acting_user=personas.user,
            mailbox=personas.user,
            mode="default",
            first_day=datetime.date(2026, 5, 2),
            last_day=datetime.date(2026, 5, 1),
        )


def test_custom_needs_a_text(personas):
    with pytest.raises(ValidationError, match="needs a subject and a text"):
        vacation_set(
            origin="test", acting_user=personas.user, mailbox=personas.user, mode="custom", subject="", body=""
        )


def test_admins_set_vacations_for_their_users_only(personas):
    vacation_set(origin="test", acting_user=personas.admin_org, mailbox=personas.user, mode="default")
    with pytest.raises(PermissionDenied):
        vacation_set(origin="test", acting_user=personas.admin_net, mailbox=personas.user, mode="off")
    with pytest.raises(PermissionDenied):
        vacation_set(origin="test", acting_user=personas.user, mailbox=personas.admin_org, mode="default")
    assert Vacation.objects.get(mailbox=personas.user).mode == "default"


def test_the_language_of_the_default_text_is_one_of_the_servers_or_empty(personas):
    """None keeps the stored language; a language the server does not have is refused by name and
    nothing changes; "" is the server's own."""
    vacation_set(acting_user=None, mailbox=personas.user, mode="default", language="fr", origin="test")
    vacation_set(acting_user=None, mailbox=personas.user, mode="default", interval_days=5, origin="test")
    assert Vacation.objects.get(mailbox=personas.user).language == "fr"
    for bad in ("xx", "de'--", "DE"):
        with pytest.raises(ValidationError, match="is not a language of this server"):
            vacation_set(acting_user=None, mailbox=personas.user, mode="default", language=bad, origin="test")
    assert Vacation.objects.get(mailbox=personas.user).language == "fr"
    vacation_set(acting_user=None, mailbox=personas.user, mode="default", language="", origin="test")
    assert Vacation.objects.get(mailbox=personas.user).language == ""
