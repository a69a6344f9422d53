"""Names people type: stored in one Unicode form, and without characters that cannot be seen.

Vietnamese letters arrive composed ("ễ" as one code point) or decomposed ("e" and two combining
marks, as macOS and some input methods send them). Both look alike but compare unequal, so a
search or a duplicate check would miss one of them: names are stored composed (NFC).

Control and format characters show nothing themselves, yet a right-to-left override makes the rest
of a name read backwards in a list or an email subject, zero-width spaces and joiners make two equal
looking names differ, and line breaks split a subject line. A name holding any of them is refused
with a message naming them, as dossier file names are (``processes.file_checks``).

``NameField`` (models) and ``NameFormField`` (forms) do both; ``validate_name`` and ``normalise`` are
there for code that takes names some other way. Free text (comments, reasons) is held to the same
rule except for its line breaks and tabs (``validate_text``).
"""

from __future__ import annotations

import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

from processes.errors import DomainError

#: Unicode categories refused in a name: controls (Cc: NUL, tab, newline, DEL, C1), formats (Cf:
#: bidi overrides and isolates, zero-width space/joiners, soft hyphen, BOM), surrogates (Cs),
#: private use (Co), and the line and paragraph separators (Zl, Zp).
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def normalise(value: str) -> str:
    """``value`` in Unicode's composed form (NFC)."""
    return unicodedata.normalize("NFC", value)


#: What free text (a comment, a reason, a summary) may hold beside what a name may: line breaks and tabs.
TEXT_LAYOUT = frozenset("\n\r\t")


def invisible_characters(value: str, *, allowed: frozenset[str] = frozenset()) -> list[str]:
    """The refused characters in ``value`` (but ``allowed``), each once, as ``U+202E RIGHT-TO-LEFT OVERRIDE``."""
    found = dict.fromkeys(
        char for char in value if unicodedata.category(char) in REFUSED_CATEGORIES and char not in allowed
    )
    return [f"U+{ord(char):04X} {unicodedata.name(char, '')}".rstrip() for char in found]


@deconstructible
class NameValidator:
    message = _(
        "This name contains characters that cannot be seen (%(characters)s), such as right-to-left "
        "marks, zero-width spaces or line breaks. Type the name again, or paste it as plain text."
    )
    code = "invisible_characters"

    def __call__(self, value) -> None:
        if not isinstance(value, str):
            return
        characters = invisible_characters(value)
        if characters:
            raise ValidationError(self.message, code=self.code, params={"characters": ", ".join(characters)})

    def __eq__(self, other) -> bool:
        return isinstance(other, NameValidator)

    def __hash__(self) -> int:
        return hash(NameValidator)


validate_name = NameValidator()


@deconstructible
class TextValidator(NameValidator):
    """Free text: as a name, but line breaks and tabs are part of its layout."""

    message = _(
        "This text contains characters that cannot be seen (%(characters)s), such as right-to-left marks or "
        "zero-width spaces. Type it again, or paste it as plain text."
    )

    def __call__(self, value) -> None:
        if not isinstance(value, str):
            return
        characters = invisible_characters(value, allowed=TEXT_LAYOUT)
        if characters:
            raise ValidationError(self.message, code=self.code, params={"characters": ", ".join(characters)})

    def __eq__(self, other) -> bool:
        return isinstance(other, TextValidator)

    def __hash__(self) -> int:
        return hash(TextValidator)


validate_text = TextValidator()


class NameFormField(forms.CharField):
    """A form's name: stripped (as every CharField), composed, refused with invisible characters."""

    default_validators = [validate_name]

    def to_python(self, value):
        value = super().to_python(value)
        return normalise(value) if isinstance(value, str) else value


class NameField(models.CharField):
    """A model's name: composed whichever way it is written (saves, ``update()`` and lookups go
    through ``to_python``), and checked by ``full_clean`` and by model forms."""

    default_validators = [validate_name]

    def to_python(self, value):
        value = super().to_python(value)
        return normalise(value) if isinstance(value, str) else value

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if isinstance(value, str):
            value = normalise(value)
            setattr(model_instance, self.attname, value)
        return value

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": NameFormField, **kwargs})


def plain(text: str | None, *, one_line: bool = False) -> str:
    """Text a person wrote, as stored: stripped, composed (NFC), without invisible characters; else the
    validator's message as a ``DomainError``. Screens check this in their forms; services check it
    again for every other caller."""
    text = normalise((text or "").strip())
    try:
        (validate_name if one_line else validate_text)(text)
    except ValidationError as exc:
        raise DomainError(exc.messages[0]) from None
    return text


# --- search -------------------------------------------------------------------------------------------

#: Letters that carry no combining mark to strip: the Vietnamese đ/Đ is a letter of its own in Unicode.
_FOLDED_LETTERS = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d"})


def searchable(*parts: str | None) -> str:
    """``parts`` as the case tracker searches them: without case, diacritics (đ/Đ included) or the
    Unicode form they were typed in, each word bounded by spaces (" nguyen thi hoa "), so that a
    word prefix is found as ``" " + prefix`` and "hoa" does not match inside "khoa". The stored
    column and the typed query both go through here."""
    text = unicodedata.normalize("NFD", " ".join(part for part in parts if part).translate(_FOLDED_LETTERS))
    words = "".join(
        char if char.isalnum() else " " for char in text.casefold() if not unicodedata.combining(char)
    ).split()
    return f" {' '.join(words)} " if words else ""


def search_words(query: str | None) -> list[str]:
    """The words of a typed query, normalised as ``searchable``."""
    return searchable(query).split()
