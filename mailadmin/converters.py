"""URL converters: object ids that fit a database column (a longer number is a 404, not an overflow)."""

from django.urls import register_converter


class IdConverter:
    regex = "[1-9][0-9]{0,17}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))


register_converter(IdConverter, "id")
