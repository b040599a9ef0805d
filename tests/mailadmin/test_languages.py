"""The panel in English, German and French: the language from the browser's Accept-Language or
the switcher, the catalogues complete and well formed, sizes and numbers written the language's
way."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = [code for code, _ in settings.LANGUAGES if code != "en"]
# The login page's heading and button in each language.
LOG_IN = {"en": "Log in", "de": "Anmelden", "fr": "Connexion"}


def catalogue(language: str) -> Path:
    return ROOT / "locale" / language / "LC_MESSAGES" / "django.po"


def entries(path: Path) -> list[dict]:
    """The .po file's entries: msgid (with its context), msgstr (or plural forms), flags."""
    found, entry, field = [], None, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if entry and "msgid" in entry:
                found.append(entry)
            entry, field = None, None
            continue
        entry = entry if entry is not None else {"flags": ""}
        if line.startswith("#,"):
            entry["flags"] += line[2:]
        elif line.startswith("#"):
            continue
        elif match := re.match(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[\d\])?) "(.*)"$', line):
            field = match.group(1)
            entry[field] = match.group(2)
        elif line.startswith('"') and field:
            entry[field] += line[1:-1]
    return [e for e in found if e["msgid"]]  # (the header entry has an empty msgid)


def test_the_browsers_language_chooses_the_page_language(db):
    for language, words in LOG_IN.items():
        page = Client(headers={"accept-language": f"{language},en;q=0.5"}).get(reverse("login"))
        text = page.content.decode()
        assert f'<html lang="{language}"' in text, language
        assert f"<h1>{words}</h1>" in text, language
        assert page["Content-Language"] == language


def test_an_unknown_language_falls_back_to_english(db):
    page = Client(headers={"accept-language": "tlh, xx-YY;q=0.8"}).get(reverse("login"))
    assert '<html lang="en"' in page.content.decode() and f"<h1>{LOG_IN['en']}</h1>" in page.content.decode()


def test_the_switcher_keeps_the_choice_over_the_browsers(db):
    client = Client(headers={"accept-language": "de"})
    answer = client.post(reverse("set_language"), {"language": "fr", "next": reverse("login")})
    assert answer.status_code == 302 and answer["Location"] == reverse("login")
    cookie = answer.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "fr" and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert f"<h1>{LOG_IN['fr']}</h1>" in client.get(reverse("login")).content.decode()
    # the switcher is on the page, with the language chosen
    page = client.get(reverse("login")).content.decode()
    assert re.search(r'<option value="fr" lang="fr" selected>Français</option>', page)


def test_the_switcher_goes_back_to_this_host_only_and_refuses_unknown_languages(db):
    client = Client()
    for elsewhere in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        answer = client.post(reverse("set_language"), {"language": "de", "next": elsewhere})
        assert answer.status_code == 302 and answer["Location"] == "/", elsewhere
    client = Client()
    answer = client.post(reverse("set_language"), {"language": "xx", "next": "/login/"})
    assert settings.LANGUAGE_COOKIE_NAME not in answer.cookies
    assert '<html lang="en"' in client.get(reverse("login")).content.decode()


@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_markup_inside_a_translated_sentence_stays_markup(personas, language):
    """A link or a <code> put into a sentence through a variable is markup, not text shown as
    &lt;a ...; the values inside it are still escaped."""
    client = Client(headers={"accept-language": language})
    client.force_login(personas.admin_org)
    page = client.get(reverse("accounts:import", args=[personas.org.pk])).content.decode()
    assert f'<a href="{reverse("accounts:export", args=[personas.org.pk])}">' in page
    page = client.get(reverse("domains:dns", args=[personas.org.pk])).content.decode()
    assert "<code>manage.py dns example.org</code>" in page and "&lt;code&gt;" not in page


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalogue_is_complete(language):
    """Every message of the panel has a translation, none is marked fuzzy, and the catalogue holds
    every message the code and templates have today (makemessages run again finds nothing new)."""
    have = entries(catalogue(language))
    untranslated = [e["msgid"] for e in have if not any(v for k, v in e.items() if k.startswith("msgstr"))]
    assert untranslated == []
    assert [e["msgid"] for e in have if "fuzzy" in e["flags"]] == []
    assert [e["msgid"] for e in have if "msgid_plural" in e and not all(e.get(f"msgstr[{i}]") for i in (0, 1))] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_translation_adds_markup_or_a_quote(language):
    """Translations of literal texts are inserted as they are (a template's literal is safe), many
    of them inside an attribute: a translation may not bring a character its English text lacks
    among < > " & (German and French use „…“ and « »)."""
    added = []
    for entry in entries(catalogue(language)):
        english = entry["msgid"] + entry.get("msgid_plural", "")
        for key, value in entry.items():
            if key.startswith("msgstr") and {c for c in '<>"&' if c in value.replace('\\"', '"')} - set(
                english.replace('\\"', '"')
            ):
                added.append((entry["msgid"], value))
    assert added == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalogue_holds_every_message_of_the_sources(language, tmp_path):
    for name in ("mailadmin", "accounts", "domains", "aliases", "vacation", "policy", "mailserver", "imports", "api"):
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / "templates").symlink_to(ROOT / "templates")
    (tmp_path / "locale" / language / "LC_MESSAGES").mkdir(parents=True)
    # (makemessages writes where LOCALE_PATHS says: here, not over the project's catalogues)
    (tmp_path / "here.py").write_text(
        f"from mailadmin.settings import *\nLOCALE_PATHS = [{str(tmp_path / 'locale')!r}]\n"
    )
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "makemessages", "-l", language, "--symlinks"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "here", "PYTHONPATH": f"{tmp_path}:{ROOT}"},
    )
    assert result.returncode == 0, result.stderr
    wanted = {
        (e.get("msgctxt"), e["msgid"]) for e in entries(tmp_path / "locale" / language / "LC_MESSAGES" / "django.po")
    }
    held = {(e.get("msgctxt"), e["msgid"]) for e in entries(catalogue(language))}
    assert wanted - held == set(), "run: manage.py makemessages -a, and translate what it adds"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalogue_compiles_with_its_placeholders_intact(language, tmp_path):
    """msgfmt --check: every translation keeps its msgid's %(name)s placeholders (python-format)."""
    msgfmt = shutil.which("msgfmt")
    result = subprocess.run(
        [msgfmt, "--check", "-o", str(tmp_path / "django.mo"), str(catalogue(language))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("language", "size", "quota", "bar"),
    [
        ("en", "1.5 GB", "unlimited", "512 MB of 1 GB"),
        ("de", "1,5 GB", "unbegrenzt", "512 MB von 1 GB"),
        ("fr", "1,5 Go", "illimité", "512 Mo sur 1 Go"),
    ],
)
def test_sizes_are_written_the_languages_way(language, size, quota, bar):
    template = Template("{% load panel %}{{ big|size }}|{{ 0|quota }}|{% storage_bar half one %}")
    with translation.override(language):
        text = template.render(Context({"big": 3 * 1024**3 // 2, "half": 512 * 1024**2, "one": 1024**3}))
    got_size, got_quota, got_bar = text.split("|", 2)
    assert (got_size, got_quota) == (size, quota)
    assert bar in got_bar
