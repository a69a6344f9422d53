"""The Vietnamese catalogue: complete, compiled, in step with the code, and what users see first.

The suite's conftest forces English for other tests; every test here chooses its language itself.
"""

from __future__ import annotations

import gettext
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from processes.models import Procedure, Role, Stage, UnitKind
from tests.factories import make_nomination

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
PO_PATH = LOCALE_DIR / "vi" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")

#: The flags of `make messages`; the tree copied for the coverage test leaves out the same directories.
MAKEMESSAGES_IGNORE = [".venv", "var", "tests"]
NOT_SOURCE = {".git", "locale", "node_modules", "__pycache__", ".pytest_cache", ".ruff_cache", ".import_linter_cache"}
GETTEXT_TOOLS = ("xgettext", "msguniq", "msgmerge", "msgattrib")


# --- a small .po parser ----------------------------------------------------------------------------


@dataclass
class Entry:
    line: int
    msgid: str | None = None
    msgctxt: str | None = None
    msgid_plural: str | None = None
    #: ``None`` is the singular ``msgstr``; integers are ``msgstr[n]``.
    msgstr: dict[int | None, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        return (self.msgctxt, self.msgid, self.msgid_plural)

    def __str__(self) -> str:
        return f"line {self.line}: {self.msgid!r}"


_FIELD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")\s*$")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def _unquote(token: str, line: int) -> str:
    if len(token) < 2 or not (token.startswith('"') and token.endswith('"')):
        raise ValueError(f"line {line}: not a quoted string: {token}")

    def escape(match):
        try:
            return _ESCAPES[match.group(1)]
        except KeyError:
            raise ValueError(f"line {line}: unknown escape \\{match.group(1)}") from None

    return re.sub(r"\\(.)", escape, token[1:-1])


def parse_po(text: str) -> list[Entry]:
    """Entries in file order, the header (``msgid ""``) first. Obsolete (``#~``) entries are marked."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int | None] | None = None  # the field continuation lines extend

    def finish():
        nonlocal entry, target
        if entry is not None and entry.msgid is not None:
            entries.append(entry)
        entry, target = None, None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line:
            finish()
            continue
        if line.startswith("#"):
            if entry is not None and entry.msgid is not None:
                finish()  # a comment after a complete entry starts the next one
            if entry is None:
                entry = Entry(line=number)
            if line.startswith("#,"):
                entry.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
            continue
        if line.startswith('"'):
            if entry is None or target is None:
                raise ValueError(f"line {number}: a string outside any field")
            name, index = target
            value = _unquote(line, number)
            if name == "msgstr":
                entry.msgstr[index] += value
            else:
                setattr(entry, name, getattr(entry, name) + value)
            continue
        match = _FIELD.match(line)
        if not match:
            raise ValueError(f"line {number}: cannot parse: {raw}")
        keyword, index, token = match.groups()
        value = _unquote(token, number)
        if keyword in ("msgctxt", "msgid") and entry is not None and entry.msgid is not None:
            finish()  # entries not separated by a blank line
        if entry is None:
            entry = Entry(line=number)
        entry.obsolete = entry.obsolete or obsolete
        if keyword.startswith("msgstr"):
            position = int(index) if index is not None else None
            if position in entry.msgstr:
                raise ValueError(f"line {number}: {keyword} given twice")
            entry.msgstr[position] = value
            target = ("msgstr", position)
        else:
            setattr(entry, keyword, value)
            target = (keyword, None)
    finish()
    return entries


def header(entries: list[Entry]) -> dict[str, str]:
    first = entries[0]
    assert first.msgid == "", "the catalogue must start with its header"
    assert first.msgctxt is None, "the header has no context"
    pairs = (line.split(":", 1) for line in first.msgstr.get(None, "").splitlines() if ":" in line)
    return {name.strip(): value.strip() for name, value in pairs}


def messages(entries: list[Entry]) -> list[Entry]:
    return [entry for entry in entries if entry.msgid != "" and not entry.obsolete]


# A printf directive: %(name)s, %s, %d, %.1f, %5.2f … ("%%" is a literal percent sign).
_PRINTF = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>[diouxXeEfFgGcrsa%])"
)
_BRACES = re.compile(r"\{\{|\}\}|\{[^{}]*\}")


def placeholders(text: str, *, printf_positional: bool) -> tuple[Counter, list[str]]:
    """Named placeholders (in any order) and positional ones (in order) that a translation must keep."""
    named, positional = Counter(), []
    for match in _PRINTF.finditer(text):
        directive = match.group(0)
        if directive == "%%":
            continue
        if match.group("name") is not None:
            named[directive] += 1
        elif printf_positional:
            positional.append(directive)
    for match in _BRACES.finditer(text):
        directive = match.group(0)
        if directive in ("{{", "}}"):
            continue
        if directive == "{}" or directive[1:2].isdigit():
            positional.append(directive)
        else:
            named[directive] += 1
    return named, positional


def _po_entries() -> list[Entry]:
    assert PO_PATH.exists(), f"{PO_PATH} is missing: run `make messages`"
    return parse_po(PO_PATH.read_text(encoding="utf-8"))


# --- the parser itself ---------------------------------------------------------------------------

SAMPLE = r"""# header comment
msgid ""
msgstr ""
"Language: vi\n"
"Plural-Forms: nplurals=1; plural=0;\n"

#, python-format
msgid ""
"A long message with %(name)s that "
"goes on \"quoted\""
msgstr "Một thông điệp dài có %(name)s "
"tiếp tục \"trích dẫn\""

#, fuzzy
msgctxt "stage"
msgid "Closed"
msgstr ""
msgid "%(count)d file"
msgid_plural "%(count)d files"
msgstr[0] "%(count)d tệp"

#~ msgid "Old"
#~ msgstr "Cũ"
"""


def test_the_po_parser_reads_multiline_strings_flags_contexts_and_plurals():
    entries = parse_po(SAMPLE)
    assert header(entries) == {"Language": "vi", "Plural-Forms": "nplurals=1; plural=0;"}
    long, closed, plural, old = entries[1:]
    assert long.msgid == 'A long message with %(name)s that goes on "quoted"'
    assert long.msgstr == {None: 'Một thông điệp dài có %(name)s tiếp tục "trích dẫn"'}
    assert long.flags == {"python-format"}
    assert (closed.msgctxt, closed.msgid, closed.msgstr, closed.flags) == ("stage", "Closed", {None: ""}, {"fuzzy"})
    assert (plural.msgid_plural, plural.msgstr) == ("%(count)d files", {0: "%(count)d tệp"})
    assert old.obsolete
    assert [entry.msgid for entry in messages(entries)] == [long.msgid, "Closed", plural.msgid]


def test_placeholders_are_extracted_by_name_and_position():
    named, positional = placeholders("%(who)s at %(when)s: %s of %d, 100%% {} {name}", printf_positional=True)
    assert named == Counter({"%(who)s": 1, "%(when)s": 1, "{name}": 1})
    assert positional == ["%s", "%d", "{}"]
    assert placeholders("50% done", printf_positional=False) == (Counter(), [])


# --- the catalogue is complete -------------------------------------------------------------------


def test_the_catalogue_header_declares_vietnamese():
    entries = _po_entries()
    fields = header(entries)
    assert "fuzzy" not in entries[0].flags, "the header is marked fuzzy: msgfmt would leave it out of the .mo"
    assert fields.get("Language") == "vi"
    assert "charset=UTF-8" in fields.get("Content-Type", "")
    assert fields.get("Plural-Forms") == "nplurals=1; plural=0;"


def test_every_message_is_translated_and_none_is_fuzzy():
    entries = messages(_po_entries())
    assert len(entries) > 100, "the catalogue looks truncated"
    fuzzy = [str(entry) for entry in entries if "fuzzy" in entry.flags]
    empty = [str(entry) for entry in entries if not entry.msgstr or not all(entry.msgstr.values())]
    # Vietnamese has one plural form: msgstr[0] and nothing else.
    bad_plurals = [str(entry) for entry in entries if entry.msgid_plural is not None and set(entry.msgstr) != {0}]
    singular_with_forms = [
        str(entry) for entry in entries if entry.msgid_plural is None and set(entry.msgstr) != {None}
    ]
    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    assert not empty, f"untranslated entries: {empty}"
    assert not bad_plurals, f"plural entries need exactly msgstr[0] (nplurals=1): {bad_plurals}"
    assert not singular_with_forms, f"msgstr[n] on an entry without msgid_plural: {singular_with_forms}"


def test_translations_keep_every_placeholder():
    problems = []
    for entry in messages(_po_entries()):
        printf = "python-format" in entry.flags and "no-python-format" not in entry.flags
        sources = [entry.msgid] if entry.msgid_plural is None else [entry.msgid_plural]
        expected = placeholders(sources[0], printf_positional=printf)
        for translation_text in entry.msgstr.values():
            found = placeholders(translation_text, printf_positional=printf)
            if found != expected:
                problems.append(f"{entry}: expects {expected}, the translation has {found}")
    assert not problems, "\n".join(problems)


def test_there_are_no_duplicate_entries():
    keys = Counter(entry.key for entry in messages(_po_entries()))
    assert not [key for key, count in keys.items() if count > 1]


# --- the compiled catalogue matches ---------------------------------------------------------------


def test_the_compiled_catalogue_matches_the_po_file():
    assert MO_PATH.exists(), f"{MO_PATH} is missing: run `make messages` and commit the .mo"
    with MO_PATH.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    expected = {}
    for entry in messages(_po_entries()):
        msgid = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is None:
            expected[msgid] = entry.msgstr[None]
        else:
            expected.update({(msgid, index): text for index, text in entry.msgstr.items()})
    # GNUTranslations keeps the messages in ``_catalog``; its header sits under the empty msgid.
    actual = {key: value for key, value in compiled._catalog.items() if key != ""}
    stale = sorted(str(key) for key in expected.keys() ^ actual.keys())
    assert not stale, f"django.mo and django.po hold different messages; run `make messages`: {stale[:20]}"
    differing = sorted(str(key) for key in expected if expected[key] != actual[key])
    assert not differing, f"django.mo is older than django.po; run `make messages`: {differing[:20]}"
    assert compiled.info().get("language") == "vi"
    assert compiled.plural(1) == compiled.plural(21) == 0


# --- the catalogue covers the code ---------------------------------------------------------------


def _copy_sources(source: Path, destination: Path) -> None:
    """The tree makemessages reads (.py, .html, .txt), without the catalogue and the ignored directories."""

    def ignore(directory, names):
        skipped = set(MAKEMESSAGES_IGNORE) | NOT_SOURCE
        return [
            name
            for name in names
            if name in skipped
            or (Path(directory, name).is_file() and Path(name).suffix not in (".py", ".html", ".txt"))
        ]

    shutil.copytree(source, destination, ignore=ignore, ignore_dangling_symlinks=True)


@pytest.mark.skipif(
    any(shutil.which(tool) is None for tool in GETTEXT_TOOLS),
    reason="GNU gettext (xgettext, msgmerge, msguniq, msgattrib) is not installed: apt-get install gettext",
)
def test_the_catalogue_holds_exactly_the_strings_marked_in_the_code(tmp_path, settings, monkeypatch):
    # makemessages writes into the first LOCALE_PATHS entry and into any locale/ directory it walks
    # past, so it runs over a copy that has none: the real catalogue is never touched.
    copy = tmp_path / "src"
    _copy_sources(Path(settings.BASE_DIR), copy)
    settings.LOCALE_PATHS = [copy / "locale"]
    monkeypatch.chdir(copy)
    call_command(
        "makemessages",
        locale=["vi"],
        no_location=True,
        ignore_patterns=MAKEMESSAGES_IGNORE,
        verbosity=0,
    )
    fresh = {entry.key for entry in messages(parse_po((copy / PO_PATH.relative_to(settings.BASE_DIR)).read_text()))}
    catalogue = {entry.key for entry in messages(_po_entries())}
    missing = sorted(map(str, fresh - catalogue))
    obsolete = sorted(map(str, catalogue - fresh))
    assert not missing, f"strings marked in the code but not in django.po; run `make messages`: {missing}"
    assert not obsolete, f"entries in django.po no longer in the code; run `make messages`: {obsolete}"


# --- what users see ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_login_page_is_vietnamese_without_a_language_preference():
    with translation.override("vi"):
        response = Client().get(reverse("login"))
    assert response.status_code == 200
    assert response["Content-Language"] == "vi"
    page = response.content.decode()
    assert '<html lang="vi">' in page
    for text in ("Đăng nhập", "Tên đăng nhập", "Mật khẩu"):
        assert text in page
    assert "Log in" not in page
    assert "Password" not in page


@pytest.mark.django_db
def test_an_english_browser_still_gets_vietnamese_until_the_user_switches():
    # Many officials run English-language browsers; only the switch (its cookie) changes language.
    with translation.override("vi"):
        response = Client(headers={"accept-language": "en"}).get(reverse("login"))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="vi">' in page
    assert "Đăng nhập" in page
    assert "Log in" not in page


@pytest.mark.django_db
def test_the_language_switch_is_remembered():
    client = Client()
    with translation.override("vi"):
        response = client.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
        assert response.status_code == 302
        page = client.get(reverse("login")).content.decode()
    assert "Log in" in page
    assert "Đăng nhập" not in page


def test_the_four_stages_display_in_vietnamese():
    with translation.override("vi"):
        assert Stage.DISCOVER.label == "Phát hiện"
        assert [str(stage.label) for stage in (Stage.DISCOVER, Stage.CULTIVATE, Stage.SUMMARISE, Stage.REPLICATE)] == [
            "Phát hiện",
            "Bồi dưỡng",
            "Tổng kết",
            "Nhân rộng",
        ]
        vietnamese = {stage: str(stage.label) for stage in Stage}
    with translation.override("en"):
        english = {stage: str(stage.label) for stage in Stage}
    assert [stage for stage in Stage if vietnamese[stage] == english[stage]] == []


@pytest.mark.parametrize(
    ("label", "vietnamese"),
    [
        pytest.param(Stage.RETURNED.label, "Trả lại để bổ sung", id="returned"),
        pytest.param(Stage.REJECTED.label, "Không chấp thuận", id="rejected"),
        pytest.param(Stage.WITHDRAWN.label, "Đã rút", id="withdrawn"),
        pytest.param(Stage.CLOSED.label, "Đã kết thúc", id="closed"),
        pytest.param(UnitKind.BOARD.label, "Ban Thi đua - Khen thưởng", id="board"),
        pytest.param(UnitKind.COUNCIL.label, "Hội đồng Thi đua - Khen thưởng", id="council"),
        pytest.param(Role.HEAD.label, "Thủ trưởng", id="unit-head"),
        pytest.param(Role.DEPUTY.label, "Cấp phó", id="deputy"),
        pytest.param(Procedure.AD_HOC.label, "Đột xuất (thủ tục đơn giản)", id="ad-hoc"),
    ],
)
def test_the_glossary_is_applied(label, vietnamese):
    with translation.override("vi"):
        assert str(label) == vietnamese


def test_the_screens_in_vietnamese_contain_no_english_of_their_own(org):
    make_nomination(org)
    client = Client()
    client.force_login(org.users["hospital_head"])
    with translation.override("vi"):
        page = client.get(reverse("processes:nomination-list")).content.decode()
    assert "Theo dõi hồ sơ" in page
    assert "Xuất Excel" in page
    assert "Phát hiện" in page
    for english in ("Case tracker", "Export to Excel", "Award form", "Proposing unit", "Log out", "Discover"):
        assert english not in page
