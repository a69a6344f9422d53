"""URL converters: an id in a path is 1 to 18 ASCII digits, so it always fits the database's 64-bit
integers; a longer one is no match (404) rather than an overflow deep in a query. Importing this
module registers ``<id:…>`` for every URL configuration."""

from django.urls import register_converter


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))


register_converter(IdConverter, "id")
