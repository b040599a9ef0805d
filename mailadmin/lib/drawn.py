"""Secrets the server draws (app passwords, API tokens, recovery codes) and saving them under a
unique public key id."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

BASE32 = "abcdefghijklmnopqrstuvwxyz234567"  # lower case: typed by hand without ambiguity of case


def draw(chars: int, alphabet: str = BASE32) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(chars))


def save_with_fresh_key(build: Callable[[], object], *, name_taken: Callable[[], bool], taken: str, failed: str):
    """Save ``build()`` (a model instance whose unique key id was just drawn); when the save
    collides, either the name was taken meanwhile (a ValidationError on ``name``: ``taken``) or the
    key id was (drawn again; five collisions of 40 random bits do not happen: else ``failed``).
    The caller gives both messages, in the user's language."""
    for _ in range(5):
        instance = build()
        try:
            with transaction.atomic():
                instance.save()
            return instance
        except IntegrityError:
            if name_taken():
                raise ValidationError({"name": taken}) from None
    raise ValidationError(failed)
