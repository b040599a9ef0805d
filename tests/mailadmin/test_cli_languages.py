"""The command line in English, German and French: the language from the environment as GNU
gettext reads it (LANGUAGE, LC_ALL, LC_MESSAGES, LANG)."""

from __future__ import annotations

import pytest
from django.core.management import get_commands, load_command_class

from mailadmin.cli import ProjectCommand, language_from_environment


@pytest.mark.parametrize(
    ("environment", "language"),
    [
        ({"LANG": "de_DE.UTF-8"}, "de"),
        ({"LANG": "de_AT"}, "de"),
        ({"LANG": "de_DE@euro"}, "de"),
        ({"LANG": "fr_CA.utf8"}, "fr"),
        ({"LC_MESSAGES": "fr_FR.UTF-8", "LANG": "de_DE.UTF-8"}, "fr"),
        ({"LC_ALL": "de_DE.UTF-8", "LC_MESSAGES": "fr_FR.UTF-8"}, "de"),
        ({"LC_ALL": "", "LANG": "de_DE.UTF-8"}, "de"),  # empty is unset
        ({"LANGUAGE": "fr:de", "LANG": "de_DE.UTF-8"}, "fr"),
        ({"LANGUAGE": "eo:de_CH:fr", "LANG": "en_US.UTF-8"}, "de"),  # the first the project has
        ({"LANGUAGE": "fr", "LANG": "C.UTF-8"}, "fr"),
        ({"LANGUAGE": "eo", "LANG": "de_DE.UTF-8"}, "en"),  # LANGUAGE's list decides, as in gettext
        ({"LANGUAGE": "de", "LC_ALL": "C"}, "en"),  # C: the program's own words (LC_ALL=C in a script)
        ({"LANGUAGE": "de", "LANG": "POSIX"}, "en"),
        ({"LANG": "C"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "xx_YY"}, "en"),
        ({"LANG": "pt_BR.UTF-8"}, "en"),  # a language the project does not have
        ({"LANG": "en_GB.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_the_language_comes_from_the_environment_as_gettext_reads_it(environment, language):
    assert language_from_environment(environment) == language


def test_every_command_of_the_project_speaks_the_environments_language():
    apps = {"mailadmin", "domains", "accounts", "aliases", "vacation", "policy", "mailserver", "imports", "api"}
    ours = {name: app for name, app in get_commands().items() if app in apps}
    assert len(ours) > 20
    assert [name for name, app in ours.items() if not isinstance(load_command_class(app, name), ProjectCommand)] == []
