"""Numbers typed anywhere (forms, bulk lines, CSV, importers, the command line) are ASCII digits only.

``str.isdigit()`` is true for ``²``, which ``int()`` then refuses (a 500 in bulk creation
and CSV import), and ``int()`` itself takes full-width and Arabic-Indic digits. Every
place parses through ``mailadmin.lib.numbers.parse_int``: whatever is typed, the answer is
a clear message naming the field, or the value an administrator meant; never a 500 or a
traceback, and nothing is written when the input is refused.
"""

import importlib
import inspect
import re

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Mailbox
from domains.models import AdminGrant, Domain
from mailadmin.forms import MAX_COUNT, MAX_QUOTA_MB, WholeNumberField
from mailadmin.importers.csvfile import CsvImporter
from tests.dbutil import run_cli_inprocess, table_snapshot
from vacation.models import Vacation

pytestmark = pytest.mark.django_db

FORM_MODULES = ("accounts.forms", "aliases.forms", "domains.forms", "vacation.forms", "mailadmin.forms")
OTHER_DIGITS = "²³¹⁰₂٠٣٤۵۹０１９߀०১𝟗"
# Cells of a CSV line or a bulk line: no separators or quotes (those only change which cell is which).
CELL_ALPHABET = list("0123456789" + OTHER_DIGITS + "+- \t_.e")
number_text = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.text(alphabet=st.sampled_from(CELL_ALPHABET), min_size=1, max_size=8),
    st.sampled_from(["10²", "²", "１０", "٣", "۵۰", "-1", "+5", " 7 ", "1_0", "9" * 5000, "\u00a01", "0x1f"]),
)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def meant(text: str, minimum: int, maximum: int) -> int | None:
    """The number an administrator meant, or None when the text must be refused."""
    match = re.fullmatch(r"\s*([+-]?[0-9]{1,30})\s*", text)
    if not match:
        return None
    value = int(match.group(1))
    return value if minimum <= value <= maximum else None


class rolled_back:
    """Each hypothesis example starts from the same data."""

    def __enter__(self):
        self.atomic = transaction.atomic()
        self.atomic.__enter__()

    def __exit__(self, *exc):
        transaction.set_rollback(True)
        return self.atomic.__exit__(*exc)


@pytest.fixture
def admin_client(personas):
    client = Client()
    client.force_login(personas.admin_org)
    return client


# --- the two 500s of the review ---------------------------------------------------------------


def test_a_superscript_quota_in_bulk_lines_is_refused_with_the_line_and_field(admin_client, personas):
    response = admin_client.post(reverse("accounts:bulk_create", args=[personas.org.pk]), {"lines": "ann,10²"})
    assert response.status_code == 200
    assert "Line 1: quota: &#x27;10²&#x27; is not a whole number: use the digits 0-9." in response.content.decode()
    assert not Mailbox.objects.filter(local_part="ann").exists()


def test_a_superscript_quota_in_a_csv_import_is_refused_with_the_line_and_column(admin_client, personas):
    upload = SimpleUploadedFile("m.csv", "name,quota_mb\nann,²\n".encode())
    response = admin_client.post(reverse("accounts:import", args=[personas.org.pk]), {"file": upload})
    assert response.status_code == 200
    assert "Line 2: quota_mb: &#x27;²&#x27; is not a whole number" in response.content.decode()
    assert not Mailbox.objects.filter(local_part="ann").exists()


def test_full_width_digits_are_not_a_quota_in_a_form(admin_client, personas):
    url = reverse("accounts:create", args=[personas.org.pk])
    response = admin_client.post(url, {"local_part": "ann", "quota_mb": "１０"})
    assert response.status_code == 200
    assert "is not a whole number: use the digits 0-9" in response.content.decode()
    assert not Mailbox.objects.filter(local_part="ann").exists()


def test_full_width_digits_are_not_a_quota_on_the_command_line(personas):
    before = table_snapshot()
    result = run_cli_inprocess("mailbox", "set", "user@example.org", "--quota-mb=１０")
    assert result.returncode != 0
    assert "argument --quota-mb: '１０' is not a whole number: use the digits 0-9." in result.stderr
    assert "Traceback" not in result.stderr
    assert table_snapshot() == before


def test_the_csv_importer_names_the_column_of_a_bad_number(tmp_path, personas):
    path = tmp_path / "m.csv"
    path.write_text("address,password,quota_mb\nann@example.org,a long password,٣\n")
    report = CsvImporter(path).run()
    assert [f.reason for f in report.failures] == ["quota_mb: '٣' is not a whole number: use the digits 0-9."]
    assert not Mailbox.objects.filter(local_part="ann").exists()


# --- every numeric field of every form ----------------------------------------------------------


def numeric_form_fields():
    """(form, field name, field) for every number field declared by the project's forms."""
    found = []
    for module_name in FORM_MODULES:
        module = importlib.import_module(module_name)
        for _, form in inspect.getmembers(module, inspect.isclass):
            if issubclass(form, forms.BaseForm) and form.__module__ == module_name:
                for name, field in form.base_fields.items():
                    if isinstance(field, forms.IntegerField | forms.FloatField):
                        found.append((form, name, field))
    return found


NUMERIC_FIELDS = numeric_form_fields()


def test_the_forms_have_numeric_fields_and_all_use_the_one_number_field():
    names = {f"{form.__name__}.{name}" for form, name, _ in NUMERIC_FIELDS}
    assert {"DomainCreateForm.max_quota_mb", "GrantForm.max_mailboxes", "VacationForm.interval_days"} <= names
    assert [n for form, n, field in NUMERIC_FIELDS if not isinstance(field, WholeNumberField)] == []


@pytest.mark.parametrize(("form", "name", "field"), NUMERIC_FIELDS, ids=lambda v: getattr(v, "__name__", str(v)))
@SETTINGS
@given(text=number_text)
def test_every_numeric_form_field(form, name, field, text):
    expected = meant(text, field.min_value, field.max_value)
    try:
        value = field.clean(text)
    except ValidationError as exc:
        assert exc.messages and expected is None, (text, exc.messages)
    else:
        assert value == expected, text


# --- bulk lines and CSV files in the panel ---------------------------------------------------------


@SETTINGS
@given(text=number_text)
def test_the_quota_of_bulk_lines(admin_client, personas, text):
    expected = meant(text, 0, MAX_QUOTA_MB)
    with rolled_back():
        response = admin_client.post(reverse("accounts:bulk_create", args=[personas.org.pk]), {"lines": f"ann,{text}"})
        assert response.status_code == 200
        created = Mailbox.objects.filter(local_part="ann").first()
        if text.strip() == "":
            assert created is not None  # the domain's default quota
        elif expected is None:
            assert created is None
            assert "Line 1: quota: " in response.content.decode()
        else:
            assert created is not None and created.quota_mb == expected


@SETTINGS
@given(text=number_text)
def test_the_quota_column_of_a_csv_import(admin_client, personas, text):
    expected = meant(text, 0, MAX_QUOTA_MB)
    upload = SimpleUploadedFile("m.csv", f"name,quota_mb\nann,{text}\n".encode())
    with rolled_back():
        response = admin_client.post(reverse("accounts:import", args=[personas.org.pk]), {"file": upload})
        assert response.status_code == 200
        created = Mailbox.objects.filter(local_part="ann").first()
        if text.strip() == "":
            assert created is not None
        elif expected is None:
            assert created is None
            assert "Line 2: quota_mb: " in response.content.decode()
        else:
            assert created is not None and created.quota_mb == expected


@SETTINGS
@given(text=number_text)
def test_the_quota_column_of_the_csv_importer(tmp_path, personas, text):
    path = tmp_path / "m.csv"
    path.write_text(f"address,password,quota_mb\nann@example.org,a long password,{text}\n")
    expected = meant(text, 0, MAX_QUOTA_MB)
    with rolled_back():
        report = CsvImporter(path).run()
        created = Mailbox.objects.filter(local_part="ann").first()
        if text.strip() == "":
            assert created is not None
        elif expected is None:
            assert created is None
            assert [f.reason[:10] for f in report.failures] == ["quota_mb: "]
        else:
            assert created is not None and created.quota_mb == expected


# --- every numeric option of the command line ---------------------------------------------------


def _domain(name):
    return lambda field: getattr(Domain.objects.filter(name=name).first(), field, None)


def _mailbox(address):
    return lambda field: getattr(Mailbox.objects.filter(address=address).first(), field, None)


def _grant(field):
    return getattr(AdminGrant.objects.filter(admin__address="admin@example.org").first(), field, None)


def _vacation(field):
    return getattr(Vacation.objects.filter(mailbox__address="user@example.org").first(), field, None)


DOMAIN_LIMITS = [("--max-mailboxes", MAX_COUNT), ("--max-aliases", MAX_COUNT), ("--max-quota-mb", MAX_QUOTA_MB)]
CLI_OPTIONS = [
    *[(("domain", "add", "new.example"), option, 0, top, _domain("new.example")) for option, top in DOMAIN_LIMITS],
    (("domain", "add", "new.example"), "--default-quota-mb", 0, MAX_QUOTA_MB, _domain("new.example")),
    *[(("domain", "set", "example.net"), option, 0, top, _domain("example.net")) for option, top in DOMAIN_LIMITS],
    (("mailbox", "add", "ann@example.org"), "--quota-mb", 0, MAX_QUOTA_MB, _mailbox("ann@example.org")),
    (("mailbox", "set", "user@example.org"), "--quota-mb", 0, MAX_QUOTA_MB, _mailbox("user@example.org")),
    (("grant", "set", "admin@example.org", "--domain", "example.org"), "--quota-mb", 0, MAX_QUOTA_MB, _grant),
    (("grant", "set", "admin@example.org", "--domain", "example.org"), "--max-mailboxes", 0, MAX_COUNT, _grant),
    (("vacation", "set", "user@example.org", "--mode", "default"), "--interval-days", 1, 365, _vacation),
]


@SETTINGS
@given(case=st.sampled_from(CLI_OPTIONS), text=number_text)
def test_every_numeric_command_line_option(personas, case, text):
    args, option, minimum, maximum, stored = case
    field = option[2:].replace("-", "_")
    expected = meant(text, minimum, maximum)
    with rolled_back():
        before = table_snapshot()
        result = run_cli_inprocess(*args, f"{option}={text}", "--json")
        assert "Traceback" not in result.stderr
        if result.returncode == 0:
            assert expected is not None and stored(field) == expected, (text, result.stdout)
        else:
            assert table_snapshot() == before
            if expected is None:
                assert f"argument {option}: " in result.stderr, result.stderr
