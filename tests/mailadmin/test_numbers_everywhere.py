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
from imports.csvfile import CsvImporter
from mailadmin.forms import MAX_COUNT, SizeField, WholeNumberField
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
# Sizes (quotas) as people write them, good and bad; the number texts above too.
size_text = st.one_of(
    number_text,
    st.builds(
        "{}{}{}".format,
        st.sampled_from(["0", "1", "500", "1.5", "1.3", "16", "17", "٣", "２"]),
        st.sampled_from(["", " "]),
        st.sampled_from(["k", "M", "MB", "MiB", "G", "GiB", "T", "b", "B", "x", "Mi", "e3"]),
    ),
)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def meant(text: str, minimum: int, maximum: int) -> int | None:
    """The number an administrator meant, or None when the text must be refused."""
    match = re.fullmatch(r"\s*([+-]?[0-9]{1,30})\s*", text)
    if not match:
        return None
    value = int(match.group(1))
    return value if minimum <= value <= maximum else None


MAX_SIZE = 16 * 1024**4


def meant_size(text: str, *, bare: str) -> int | None:
    """The bytes an administrator meant, or None: K/M/G/T are powers of 1024; a number alone is
    bytes (``bare="bytes"``, files) or, unless 0, refused for want of a unit (``bare="refuse"``)."""
    value = text.strip()
    if re.fullmatch(r"[0-9]{1,25}", value):
        size = int(value)
        return None if (bare == "refuse" and size) or size > MAX_SIZE else size
    match = re.fullmatch(r"([0-9]{1,20})(?:\.([0-9]{1,20}))?\s*(?:([kKmMgGtT])(?:ib|b|iB|B)?|[bB])", value)
    if not match:
        return None
    whole, fraction, unit = match.group(1), match.group(2) or "0", match.group(3)
    power = "kmgt".index(unit.lower()) + 1 if unit else 0
    numerator = (int(whole) * 10 ** len(fraction) + int(fraction)) * 1024**power
    size, rest = divmod(numerator, 10 ** len(fraction))
    return None if rest or size > MAX_SIZE else size


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
    assert "Line 1: quota: &#x27;10²&#x27; is not a size" in response.content.decode()
    assert not Mailbox.objects.filter(local_part="ann").exists()


def test_a_superscript_quota_in_a_csv_import_is_refused_with_the_line_and_column(admin_client, personas):
    upload = SimpleUploadedFile("m.csv", "name,quota_bytes\nann,²\n".encode())
    response = admin_client.post(reverse("accounts:import", args=[personas.org.pk]), {"file": upload})
    assert response.status_code == 200
    assert "Line 2: quota_bytes: &#x27;²&#x27; is not a size" in response.content.decode()
    assert not Mailbox.objects.filter(local_part="ann").exists()


def test_full_width_digits_are_not_a_quota_in_a_form(admin_client, personas):
    url = reverse("accounts:create", args=[personas.org.pk])
    response = admin_client.post(url, {"local_part": "ann", "quota_bytes": "１０M"})
    assert response.status_code == 200
    assert "&#x27;１０M&#x27; is not a size" in response.content.decode()
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
    path.write_text("address,password,quota_bytes\nann@example.org,a long password,٣\n")
    report = CsvImporter(path).run()
    assert [f.reason for f in report.failures] == [
        "quota_bytes: '٣' is not a size: write a number with K, M, G or T (such as 500M or 1.5G)."
    ]
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
                    if isinstance(field, forms.IntegerField | forms.FloatField | SizeField):
                        found.append((form, name, field))
    return found


NUMERIC_FIELDS = numeric_form_fields()


def test_the_forms_have_numeric_fields_and_all_use_the_one_number_field():
    names = {f"{form.__name__}.{name}" for form, name, _ in NUMERIC_FIELDS}
    assert {"DomainCreateForm.max_quota_bytes", "GrantForm.max_mailboxes", "VacationForm.interval_days"} <= names
    assert [n for form, n, field in NUMERIC_FIELDS if not isinstance(field, WholeNumberField | SizeField)] == []


@pytest.mark.parametrize(("form", "name", "field"), NUMERIC_FIELDS, ids=lambda v: getattr(v, "__name__", str(v)))
@SETTINGS
@given(text=size_text)
def test_every_numeric_form_field(form, name, field, text):
    if isinstance(field, SizeField):
        expected = meant_size(text, bare="refuse")
        if text.strip() == "" and not field.required:
            return
    else:
        expected = meant(text, field.min_value, field.max_value)
    try:
        value = field.clean(text)
    except ValidationError as exc:
        assert exc.messages and expected is None, (text, exc.messages)
    else:
        assert value == expected, text


# --- bulk lines and CSV files in the panel ---------------------------------------------------------


@SETTINGS
@given(text=size_text)
def test_the_quota_of_bulk_lines(admin_client, personas, text):
    expected = meant_size(text, bare="refuse")
    with rolled_back():
        response = admin_client.post(reverse("accounts:bulk_create", args=[personas.org.pk]), {"lines": f"ann,{text}"})
        assert response.status_code in (200, 302)  # the form again, or the (finished) job's page
        created = Mailbox.objects.filter(local_part="ann").first()
        if text.strip() == "":
            assert created is not None  # the domain's default quota
        elif expected is None:
            assert created is None
            assert "Line 1: quota: " in response.content.decode()
        else:
            assert created is not None and created.quota_bytes == expected


@SETTINGS
@given(text=size_text)
def test_the_quota_column_of_a_csv_import(admin_client, personas, text):
    expected = meant_size(text, bare="bytes")
    upload = SimpleUploadedFile("m.csv", f"name,quota_bytes\nann,{text}\n".encode())
    with rolled_back():
        response = admin_client.post(reverse("accounts:import", args=[personas.org.pk]), {"file": upload})
        assert response.status_code in (200, 302)  # the form again, or the (finished) job's page
        created = Mailbox.objects.filter(local_part="ann").first()
        if text.strip() == "":
            assert created is not None
        elif expected is None:
            assert created is None
            assert "Line 2: quota_bytes: " in response.content.decode()
        else:
            assert created is not None and created.quota_bytes == expected


@SETTINGS
@given(text=size_text)
def test_the_quota_column_of_the_csv_importer(tmp_path, personas, text):
    path = tmp_path / "m.csv"
    path.write_text(f"address,password,quota_bytes\nann@example.org,a long password,{text}\n")
    expected = meant_size(text, bare="bytes")
    with rolled_back():
        report = CsvImporter(path).run()
        created = Mailbox.objects.filter(local_part="ann").first()
        if text.strip() == "":
            assert created is not None
        elif expected is None:
            assert created is None
            assert [f.reason[:13] for f in report.failures] == ["quota_bytes: "]
        else:
            assert created is not None and created.quota_bytes == expected


# --- every numeric option of the command line ---------------------------------------------------


def _domain(name):
    return lambda field: getattr(Domain.objects.filter(name=name).first(), field, None)


def _mailbox(address):
    return lambda field: getattr(Mailbox.objects.filter(address=address).first(), field, None)


def _grant(field):
    return getattr(AdminGrant.objects.filter(admin__address="admin@example.org").first(), field, None)


def _vacation(field):
    return getattr(Vacation.objects.filter(mailbox__address="user@example.org").first(), field, None)


# (command, option, what a text means: (minimum, maximum) of a number, "size", or "mb"; the stored field)
SIZE, MBYTES = "size", "mb"
DOMAIN_LIMITS = [
    ("--max-mailboxes", (0, MAX_COUNT), "max_mailboxes"),
    ("--max-aliases", (0, MAX_COUNT), "max_aliases"),
    ("--max-quota", SIZE, "max_quota_bytes"),
    ("--max-quota-mb", MBYTES, "max_quota_bytes"),
]
GRANT = ("grant", "set", "admin@example.org", "--domain", "example.org")
CLI_OPTIONS = [
    *[(("domain", "add", "new.example"), *limit, _domain("new.example")) for limit in DOMAIN_LIMITS],
    (("domain", "add", "new.example"), "--default-quota", SIZE, "default_quota_bytes", _domain("new.example")),
    *[(("domain", "set", "example.net"), *limit, _domain("example.net")) for limit in DOMAIN_LIMITS],
    (("domain", "set", "example.net"), "--greylist-delay", (1, 86400), "greylist_delay", _domain("example.net")),
    (
        ("domain", "set", "example.net"),
        "--greylist-expiry-days",
        (1, 3650),
        "greylist_expiry_days",
        _domain("example.net"),
    ),
    (("mailbox", "add", "ann@example.org"), "--quota", SIZE, "quota_bytes", _mailbox("ann@example.org")),
    (("mailbox", "set", "user@example.org"), "--quota-mb", MBYTES, "quota_bytes", _mailbox("user@example.org")),
    (GRANT, "--quota", SIZE, "quota_bytes", _grant),
    (GRANT, "--max-mailboxes", (0, MAX_COUNT), "max_mailboxes", _grant),
    (
        ("vacation", "set", "user@example.org", "--mode", "default"),
        "--interval-days",
        (1, 365),
        "interval_days",
        _vacation,
    ),
]


def meant_option(meaning, text: str) -> int | None:
    if meaning == SIZE:
        return meant_size(text, bare="refuse")
    if meaning == MBYTES:
        megabytes = meant(text, 0, MAX_SIZE // 1024**2)
        return None if megabytes is None else megabytes * 1024**2
    return meant(text, *meaning)


@SETTINGS
@given(case=st.sampled_from(CLI_OPTIONS), text=size_text)
def test_every_numeric_command_line_option(personas, case, text):
    args, option, meaning, field, stored = case
    expected = meant_option(meaning, text)
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
