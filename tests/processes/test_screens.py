"""Screens for people: a Vietnamese title on every page, a skip link to the content, required fields
marked wherever a form is drawn, a favicon, a colour per stage and per deadline with readable text, and
nothing fetched from another site."""

from __future__ import annotations

import re
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from processes import services
from processes.models import Consultation, Stage
from tests.factories import approve_until, make_nomination, open_step, submitted

ROOT = Path(settings.BASE_DIR)
TEMPLATE_DIRS = [path for path in ROOT.glob("*/templates") if path.parent.name != ".venv"]
STYLESHEET = ROOT / "processes" / "static" / "processes" / "app.css"
SITE = "Thi đua - Khen thưởng"
SKIP_LINK = '<a class="skip-link" href="#content">Bỏ qua, đến nội dung chính</a>'


def _vietnamese(user=None) -> Client:
    """A browser with no language chosen: Vietnamese, as every user sees by default."""
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _title(page: str) -> str:
    match = re.search(r"<title>(.*?)</title>", page, re.S)
    assert match, "no <title>"
    return " ".join(match.group(1).split())


def _voting_form(org):
    org.city_form.council_vote = True
    org.city_form.council_threshold_percent = 50
    org.city_form.save()


@pytest.fixture
def pages(org):
    """Every page the demo shows a signed-in user, as (user, url, the title's own words in Vietnamese)."""
    _voting_form(org)
    plain = make_nomination(org)
    at_council = approve_until(submitted(org), "council_review")
    session = services.council_session_open(
        by=org.board_officer,
        title="Phiên họp tháng 12",
        tasks=[open_step(at_council)],
        closes_at=timezone.now() + timedelta(days=7),
    )
    at_board = approve_until(submitted(org), "board_appraisal")
    services.consultation_request(
        task_id=open_step(at_board).pk,
        by=org.board_officer,
        agencies=[(org.department, "", 5)],
        question="Có vi phạm không?",
    )
    consultation = Consultation.objects.get()
    with translation.override("vi"):
        words = {
            "list": gettext("Case tracker"),
            "my work": gettext("My work"),
            "inbox": gettext("My steps"),
            "council": gettext("Council"),
            "notifications": gettext("Notifications"),
            "preferences": gettext("Notification preferences"),
            "new nomination": gettext("Open a nomination"),
            "new nominee": gettext("Register a nominee"),
            "password": gettext("Change password"),
            "password changed": gettext("Password changed"),
        }
    secretary, board = org.hospital_secretary, org.board_officer
    return [
        (secretary, reverse("processes:my-work"), words["my work"]),
        (secretary, reverse("processes:nomination-list"), words["list"]),
        (secretary, reverse("processes:nomination-detail", args=[plain.pk]), f"Hồ sơ: {plain.nominee.name}"),
        (secretary, reverse("processes:inbox"), words["inbox"]),
        (secretary, reverse("processes:nomination-new"), words["new nomination"]),
        (secretary, reverse("processes:nominee-new"), words["new nominee"]),
        (secretary, reverse("notifications:centre"), words["notifications"]),
        (secretary, reverse("notifications:preferences"), words["preferences"]),
        (secretary, reverse("password_change"), words["password"]),
        (secretary, reverse("password_change_done"), words["password changed"]),
        (board, reverse("processes:council"), words["council"]),
        (board, reverse("processes:council-session", args=[session.pk]), "Phiên họp hội đồng: Phiên họp tháng 12"),
        (
            org.department_secretary,
            reverse("processes:consultation", args=[consultation.pk]),
            f"Xin ý kiến {consultation.agency_name}",
        ),
    ]


def test_every_signed_in_page_has_its_own_vietnamese_title_and_a_skip_link_to_the_content(pages):
    clients = {}
    titles = []
    for user, url, words in pages:
        client = clients.setdefault(user.pk, _vietnamese(user))
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        title = _title(page)
        assert title == f"{words} · {SITE}", url
        assert title != f"{SITE} · {SITE}", url  # not base.html's default
        assert SKIP_LINK in page, url
        assert '<main id="content"' in page, url
        titles.append(title)
    assert len(set(titles)) == len(titles)  # one title per page, none shared


def test_every_english_title_was_translated(pages):
    """The titles' own words differ from the code's English: the catalogue holds them."""
    with translation.override("en"):
        english = {gettext("Nominations"), gettext("My steps"), "Case:", "Council session:", "Opinion requested"}
    for _user, _url, words in pages:
        assert not any(words.startswith(text) for text in english), words


def test_the_pages_seen_signed_out_and_the_error_pages_have_titles_and_the_skip_link(db):
    client = _vietnamese()
    with translation.override("vi"):
        expected = {
            reverse("login"): gettext("Log in"),
            reverse("password_reset"): gettext("Reset your password"),
            reverse("password_reset_done"): gettext("Check your email"),
            reverse("password_reset_complete"): gettext("Password saved"),
            "/khong-co-trang-nay/": gettext("Not found"),
        }
    for url, words in expected.items():
        page = client.get(url).content.decode()
        assert _title(page) == f"{words} · {SITE}", url
        assert SKIP_LINK in page, url
        assert '<main id="content"' in page, url


def test_every_page_template_sets_its_own_title():
    """A page added later (another engineer's) that forgets its title block fails here."""
    pages = []
    for directory in TEMPLATE_DIRS:
        for path in directory.rglob("*.html"):
            text = path.read_text()
            if re.search(r"{%\s*extends\s+[\"'](base|error_page)\.html[\"']", text):
                pages.append(path)
                assert re.search(r"{%\s*block title\s*%}\s*\S", text), f"{path} has no title of its own"
    assert len(pages) >= 20


def _label(page: str, field_id: str) -> str:
    match = re.search(rf'<label for="{field_id}">(.*?)</label>', page, re.S)
    assert match, f"no label for {field_id}"
    return match.group(1)


def test_the_new_nomination_form_marks_its_required_fields_and_only_those(org):
    client = _vietnamese(org.hospital_secretary)
    response = client.get(reverse("processes:nomination-new"))
    page = response.content.decode()
    form = response.context["form"]
    required = [bound for bound in form if bound.field.required]
    assert {bound.name for bound in required} >= {"campaign", "award_form", "procedure", "nominee", "unit"}
    for bound in form:
        label = _label(page, bound.id_for_label)
        marked = '<span class="required-mark" aria-hidden="true">*</span>' in label
        assert marked is bound.field.required, bound.name
        assert ('<span class="visually-hidden"> (bắt buộc)</span>' in label) is bound.field.required, bound.name


def test_an_optional_field_carries_no_mark_and_a_required_one_does(org):
    client = _vietnamese(org.hospital_secretary)
    response = client.get(reverse("processes:nominee-new"))
    page = response.content.decode()
    form = response.context["form"]
    required = [bound for bound in form if bound.field.required]
    optional = [bound for bound in form if not bound.field.required]
    assert required
    assert optional
    for bound in required:
        assert "required-mark" in _label(page, bound.id_for_label), bound.name
    for bound in optional:
        assert "required-mark" not in _label(page, bound.id_for_label), bound.name


def test_hand_written_required_fields_are_marked_too(org):
    """The log-in form draws its fields by hand: its labels carry the mark as well."""
    page = _vietnamese().get(reverse("login")).content.decode()
    assert page.count('<span class="required-mark" aria-hidden="true">*</span>') == 2


def test_the_favicon_is_linked_from_every_page_and_favicon_ico_leads_to_it(org):
    icon = static("processes/favicon.svg")
    found = finders.find("processes/favicon.svg")
    assert found
    assert Path(found).read_text().lstrip().startswith("<svg")
    client = _vietnamese()
    assert f'<link rel="icon" href="{icon}" type="image/svg+xml">' in client.get(reverse("login")).content.decode()
    signed_in = _vietnamese(org.hospital_secretary)
    assert f'<link rel="icon" href="{icon}"' in signed_in.get(reverse("processes:inbox")).content.decode()
    response = client.get("/favicon.ico")  # signed out: no detour through the log-in page
    assert response.status_code == 301
    assert response["Location"] == icon


@pytest.mark.django_db(transaction=True)
def test_the_favicon_is_served(live_server):
    with urllib.request.urlopen(live_server.url + "/favicon.ico") as response:  # noqa: S310 (our own server)
        assert response.status == 200
        assert response.url.endswith(static("processes/favicon.svg"))
        assert response.headers["Content-Type"].startswith("image/svg+xml")
        assert b"<svg" in response.read()


# --- nothing from another site ---------------------------------------------------------------------

#: A URL to another host: http://x, https://x or a protocol-relative //x (a CDN). XML namespaces
#: (never fetched) are allowed.
EXTERNAL = re.compile(r"(?:https?:)?//(?!www\.w3\.org/)[a-z0-9-]+(?:\.[a-z0-9-]+)+", re.I)


@pytest.mark.parametrize(
    ("text", "external"),
    [
        ('<link href="https://cdn.jsdelivr.net/npm/bootstrap.css">', True),
        ('<script src="//unpkg.com/htmx.org"></script>', True),
        ("@import url(http://fonts.googleapis.com/css?family=Roboto);", True),
        ('<svg xmlns="http://www.w3.org/2000/svg">', False),
        ('<a href="{{ site }}{{ item.link }}">', False),
        ("/* a comment */ a { color: red; }", False),
    ],
)
def test_the_external_url_check_tells_a_cdn_from_a_namespace(text, external):
    assert bool(EXTERNAL.search(text)) is external


def _assets():
    for directory in TEMPLATE_DIRS:
        yield from (path for path in directory.rglob("*") if path.suffix in {".html", ".txt", ".xml", ".svg"})
    for directory in ROOT.glob("*/static"):
        yield from (path for path in directory.rglob("*") if path.suffix in {".css", ".js", ".svg"})


def test_no_template_or_stylesheet_loads_anything_from_another_host():
    checked = 0
    for path in _assets():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            assert not EXTERNAL.search(line), f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        checked += 1
    assert checked >= 30
    assert STYLESHEET in set(_assets())


# --- colours ----------------------------------------------------------------------------------------


def _rule(css: str, selector: str) -> dict[str, str]:
    match = re.search(rf"(?m)^\s*\.{re.escape(selector)}\s*{{([^}}]*)}}", css)
    assert match, f".{selector} is not defined"
    return dict(
        (name.strip(), value.strip())
        for name, value in (part.split(":", 1) for part in match.group(1).split(";") if ":" in part)
    )


def _luminance(colour: str) -> float:
    colour = colour.lstrip("#")
    if len(colour) == 3:
        colour = "".join(2 * c for c in colour)
    channels = [int(colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(first: str, second: str) -> float:
    high, low = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize(
    ("prefix", "names"),
    [("stage-", [stage.value for stage in Stage]), ("badge-", ["ontime", "soon", "overdue"])],
)
def test_each_stage_and_deadline_has_its_own_colours_with_aa_contrast(prefix, names):
    css = STYLESHEET.read_text()
    backgrounds = set()
    for name in names:
        rule = _rule(css, prefix + name)
        background, colour = rule["background"], rule["color"]
        assert _contrast(background, colour) >= 4.5, (name, background, colour)
        backgrounds.add(background.lower())
    assert len(backgrounds) == len(names)  # no two share a colour


def test_the_stage_is_shown_in_words_beside_its_colour(org):
    nomination = make_nomination(org)
    page = _vietnamese(org.hospital_secretary).get(reverse("processes:nomination-list")).content.decode()
    with translation.override("vi"):
        label = str(Stage(nomination.stage).label)
    assert f'<span class="stage stage-{nomination.stage}">{label}</span>' in page
