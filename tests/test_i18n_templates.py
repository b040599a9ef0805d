"""Every word a template shows goes through Django's translation framework: a text node, or a
label a screen reader or a tooltip shows (aria-label, title, placeholder, alt, a button's value),
outside {% translate %} / {% blocktranslate %} fails here, naming the template and the words."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.template.base import Lexer, TokenType

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))
HOLE = "\x00"  # where a {{ variable }} or a {% tag %} was
# Names that are the same in every language: protocols, record types, programs, formats.
SAME_EVERYWHERE = {
    *("IMAP", "IMAPS", "POP3", "POP3S", "SMTP", "SMTPS", "TLS", "STARTTLS", "SSL", "DNS", "MX", "TXT"),
    *("SPF", "DKIM", "DMARC", "DNSBL", "CSV", "API", "TOTP", "WebAuthn", "Exim", "Dovecot", "Sieve", "ID"),
    *("OK", "IP", "URL", "SQL", "JSON", "ManageSieve", "OpenAPI", "Prometheus", "MiB", "KiB", "GiB", "TiB", "B"),
}
ATTRIBUTES = {"aria-label", "title", "placeholder", "alt"}
DATA = re.compile(r"[\w-]+(?:\.[\w-]+)+|\b[0-9]+(?:\.[0-9]+)?[KMGT]\b")


def outside_translation(source: str) -> str:
    """The template's text outside {% translate %}, {% blocktranslate %}, comments, with a hole where
    each other tag or variable was."""
    out, skip = [], None
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents.split() else ""
            if skip:
                if name == skip:
                    skip = None
                continue
            ends = {"blocktranslate": "endblocktranslate", "blocktrans": "endblocktrans"}
            ends |= {"comment": "endcomment", "verbatim": "endverbatim"}
            if name in ends:
                skip = ends[name]
            out.append(HOLE)
        elif token.token_type == TokenType.TEXT and not skip:
            out.append(token.contents)
        elif not skip:
            out.append(HOLE)
    return "".join(out)


class Words(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found, self.inside = [], []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "pre"):  # (a <pre> holds sample lines, data not words)
            self.inside.append(tag)
        attrs = dict(attrs)
        for name, value in attrs.items():
            wanted = name in ATTRIBUTES or (name == "value" and attrs.get("type") in ("submit", "button", "reset"))
            if wanted and value:
                self._check(value, f"{tag} {name}")

    def handle_endtag(self, tag):
        if self.inside and self.inside[-1] == tag:
            self.inside.pop()

    def handle_data(self, data):
        if not self.inside:
            self._check(data, "text")

    def _check(self, text, where):
        for part in text.split(HOLE):
            data = DATA.sub(" ", part)  # (an example host name or size is data, not words)
            words = [w for w in re.findall(r"[^\W\d_][\w'’-]*", data) if w not in SAME_EVERYWHERE]
            if words:
                self.found.append(f"{where}: {part.strip()!r}")


def literals(source: str) -> list[str]:
    parser = Words()
    parser.feed(outside_translation(source))
    parser.close()
    return parser.found


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "templates")))
def test_template_has_no_untranslated_literal(path):
    assert literals(path.read_text()) == []


def test_the_check_finds_a_literal():
    """The check above can fail: a word in text or in a label is found, a translated one is not."""
    assert literals("<p>Hello {{ name }}</p>") == ["text: 'Hello'"]
    assert literals('<nav aria-label="Main"></nav>') == ["nav aria-label: 'Main'"]
    assert literals('<input type="submit" value="Save">') == ["input value: 'Save'"]
    assert literals('<input placeholder="other-name.example"><input placeholder="500M">') == []
    assert literals('{% load i18n %}<p>{% translate "Hello" %} {{ name }}: 42 · SMTP</p>') == []
    assert literals("<p>{% blocktranslate trimmed %}Hello {{ name }}{% endblocktranslate %}</p>") == []
    assert literals("<script>let x = 'words';</script>{# words #}{% comment %}words{% endcomment %}") == []
    assert literals("<pre>anna,Miller</pre>") == []
