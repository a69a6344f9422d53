"""Dossier files: accepted by content, stored safely, downloaded only by those who may see them."""

import hashlib
import io
import re
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.messages import ERROR, SUCCESS, get_messages
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import translation

from processes import errors, file_checks
from processes.models import DocumentType, DossierDownload, DossierFile
from processes.services import dossiers
from tests.factories import PDF_BYTES, attach_file, make_nomination
from workflow.audit import audit_entries_for

# --- real minimal files of each accepted kind, built here -----------------------------------------


def png_bytes() -> bytes:
    """A 1x1 grey PNG: signature, IHDR, IDAT, IEND, each chunk with its CRC."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b"")
    )


def jpeg_bytes() -> bytes:
    """An 8x8 grey baseline JPEG: one-symbol Huffman tables, one block holding DC 0 and end-of-block."""

    def segment(marker: bytes, payload: bytes) -> bytes:
        return b"\xff" + marker + struct.pack(">H", len(payload) + 2) + payload

    one_code = bytes([1] + [0] * 15) + b"\x00"  # one code of length 1, for symbol 0
    return (
        b"\xff\xd8"
        + segment(b"\xe0", b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + segment(b"\xdb", b"\x00" + b"\x01" * 64)
        + segment(b"\xc0", b"\x08\x00\x08\x00\x08\x01\x01\x11\x00")
        + segment(b"\xc4", b"\x00" + one_code)
        + segment(b"\xc4", b"\x10" + one_code)
        + segment(b"\xda", b"\x01\x01\x00\x00\x3f\x00")
        + b"\x3f"  # bits 0 (DC difference 0) and 0 (end of block), padded with ones
        + b"\xff\xd9"
    )


def zip_bytes(parts: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
XLSX_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


def content_types(overrides: dict[str, str]) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        + "".join(f'<Override PartName="/{part}" ContentType="{kind}"/>' for part, kind in overrides.items())
        + "</Types>"
    )


def package_rels(main_part: str) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{RELS_NS}">'
        f'<Relationship Id="rId1" Type="{OFFICE_DOC_REL}" Target="{main_part}"/></Relationships>'
    )


def docx_bytes(*, main_type: str = DOCX_MAIN, extra: dict | None = None) -> bytes:
    return zip_bytes(
        {
            "[Content_Types].xml": content_types({"word/document.xml": main_type}),
            "_rels/.rels": package_rels("word/document.xml"),
            "word/document.xml": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                "<w:body><w:p><w:r><w:t>Báo cáo thành tích</w:t></w:r></w:p></w:body></w:document>"
            ),
            **(extra or {}),
        }
    )


def xlsx_bytes() -> bytes:
    return zip_bytes(
        {
            "[Content_Types].xml": content_types(
                {
                    "xl/workbook.xml": XLSX_MAIN,
                    "xl/worksheets/sheet1.xml": XLSX_SHEET,
                }
            ),
            "_rels/.rels": package_rels("xl/workbook.xml"),
            "xl/workbook.xml": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
            ),
            "xl/_rels/workbook.xml.rels": (
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{RELS_NS}">'
                '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                'worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
            ),
            "xl/worksheets/sheet1.xml": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                "<sheetData/></worksheet>"
            ),
        }
    )


ELF_BYTES = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + struct.pack("<HHI", 2, 0x3E, 1) + b"\x00" * 100
PE_BYTES = b"MZ\x90\x00" + b"\x00" * 56 + struct.pack("<I", 0x80) + b"\x00" * 64 + b"PE\x00\x00" + b"\x00" * 100

ACCEPTED = {
    "pdf": ("bao-cao.pdf", PDF_BYTES, "application/pdf"),
    "png": ("anh.png", png_bytes(), "image/png"),
    "jpg": ("anh.jpg", jpeg_bytes(), "image/jpeg"),
    "docx": ("bao-cao.docx", docx_bytes(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("bang.xlsx", xlsx_bytes(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


# --- fixtures and helpers -------------------------------------------------------------------------


@pytest.fixture
def nomination(org):
    return make_nomination(org)


def upload_as(name: str, content: bytes) -> SimpleUploadedFile:
    # The browser's content type is whatever the client says; it is given wrong on purpose.
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def files_on_disk() -> list[Path]:
    root = Path(django_settings.DOSSIER_ROOT)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def upload_entries(nomination) -> list:
    return [entry for entry in audit_entries_for(nomination) if entry.action == "processes.dossier.uploaded"]


def assert_nothing_kept(nomination):
    assert not DossierFile.objects.filter(nomination=nomination).exists()
    assert files_on_disk() == []
    assert upload_entries(nomination) == []


def english_message(call) -> str:
    with translation.override("en"), pytest.raises(errors.UploadRejected) as refused:
        call()
    return str(refused.value)


# --- the service ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(ACCEPTED))
def test_accepts_a_real_file_of_each_kind_by_its_content(org, nomination, kind):
    name, content, content_type = ACCEPTED[kind]

    saved = dossiers.dossier_upload(
        nomination=nomination, by=org.hospital_secretary, document_type=org.report_type, upload=upload_as(name, content)
    )

    saved.refresh_from_db()
    assert (saved.extension, saved.content_type, saved.original_name) == (kind, content_type, name)
    assert saved.size == len(content)
    assert saved.sha256 == hashlib.sha256(content).hexdigest()
    assert saved.uploaded_by == org.hospital_secretary
    with saved.file.open("rb") as stored:
        assert stored.read() == content
    [entry] = upload_entries(nomination)
    assert entry.actor == org.hospital_secretary
    assert entry.data == {
        "file": saved.pk,
        "document_type": DocumentType.ACHIEVEMENT_REPORT,
        "name": name,
        "size": len(content),
        "sha256": saved.sha256,
    }


def test_a_name_that_misstates_the_type_is_shown_with_the_true_extension(org, nomination):
    saved = dossiers.dossier_upload(
        nomination=nomination,
        by=org.hospital_secretary,
        document_type=org.report_type,
        upload=upload_as("scan.pdf", png_bytes()),
    )

    assert (saved.original_name, saved.extension, saved.content_type) == ("scan.pdf.png", "png", "image/png")


def test_decomposed_vietnamese_names_are_stored_composed(org, nomination):
    decomposed = "Ba\u0301o ca\u0301o.pdf"  # as macOS sends "Báo cáo.pdf"

    saved = dossiers.dossier_upload(
        nomination=nomination,
        by=org.hospital_secretary,
        document_type=org.report_type,
        upload=upload_as(decomposed, PDF_BYTES),
    )

    assert saved.original_name == "B\u00e1o c\u00e1o.pdf"


@pytest.mark.parametrize("content", [ELF_BYTES, PE_BYTES], ids=["elf", "pe"])
def test_rejects_an_executable_renamed_to_pdf(org, nomination, content):
    message = english_message(
        lambda: dossiers.dossier_upload(
            nomination=nomination,
            by=org.hospital_secretary,
            document_type=org.report_type,
            upload=upload_as("bao-cao.pdf", content),
        )
    )

    assert "not accepted" in message
    assert "PDF, Word (DOCX), Excel (XLSX), JPEG and PNG" in message
    assert_nothing_kept(nomination)


@pytest.mark.parametrize(
    "content",
    [
        zip_bytes({"bao-cao.txt": "not a document"}),
        zip_bytes({"[Content_Types].xml": content_types({}), "word/other.xml": "<x/>"}),
        zip_bytes({"[Content_Types].xml": content_types({}), "word/document.xml": "<x/>"}),
        b"PK\x03\x04" + b"\x00" * 200,
    ],
    ids=["plain-zip", "no-main-part", "main-part-undeclared", "damaged-zip"],
)
def test_rejects_a_zip_that_is_not_really_a_word_document(org, nomination, content):
    with pytest.raises(errors.UploadRejected):
        dossiers.dossier_upload(
            nomination=nomination,
            by=org.hospital_secretary,
            document_type=org.report_type,
            upload=upload_as("bao-cao.docx", content),
        )

    assert_nothing_kept(nomination)


def test_rejects_a_macro_enabled_document_renamed_to_docx(org, nomination):
    content = docx_bytes(main_type=DOCM_MAIN, extra={"word/vbaProject.bin": b"\x00" * 32})

    message = english_message(
        lambda: dossiers.dossier_upload(
            nomination=nomination,
            by=org.hospital_secretary,
            document_type=org.report_type,
            upload=upload_as("bao-cao.docx", content),
        )
    )

    assert "macros" in message
    assert_nothing_kept(nomination)


def test_rejects_a_document_that_would_unpack_beyond_the_bound(org, nomination, monkeypatch):
    monkeypatch.setattr(file_checks, "MAX_UNPACKED_BYTES", 64 * 1024)
    # Compresses to about a hundred bytes; the zip's directory says what it unpacks to.
    content = docx_bytes(extra={"word/media/padding.bin": b"\x00" * (128 * 1024)})
    assert len(content) < 2000

    message = english_message(
        lambda: dossiers.dossier_upload(
            nomination=nomination,
            by=org.hospital_secretary,
            document_type=org.report_type,
            upload=upload_as("bao-cao.docx", content),
        )
    )

    assert "archive bomb" in message
    assert_nothing_kept(nomination)


class _Unreadable(io.BytesIO):
    def read(self, *args):
        raise AssertionError("an oversized upload must be refused before it is read")


def test_rejects_an_oversized_file_before_reading_it(org, nomination, settings):
    settings.DOSSIER_MAX_UPLOAD_BYTES = 100
    upload = upload_as("bao-cao.pdf", PDF_BYTES + b"%" * 200)
    upload.file = _Unreadable()

    message = english_message(
        lambda: dossiers.dossier_upload(
            nomination=nomination, by=org.hospital_secretary, document_type=org.report_type, upload=upload
        )
    )

    assert "limit of 100 bytes" in message.replace("\xa0", " ")
    assert_nothing_kept(nomination)


def test_a_size_understated_by_the_caller_is_caught_while_storing(org, nomination, settings):
    settings.DOSSIER_MAX_UPLOAD_BYTES = 1000
    upload = upload_as("bao-cao.pdf", PDF_BYTES + b"%" * 5000)
    upload.size = 500

    with pytest.raises(errors.UploadRejected):
        dossiers.dossier_upload(
            nomination=nomination, by=org.hospital_secretary, document_type=org.report_type, upload=upload
        )

    assert_nothing_kept(nomination)


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd.pdf",
        "..\\x.pdf",
        "a/b.pdf",
        "/etc/passwd.pdf",
        "..",
        "",
        "   ",
        "bao\x00cao.pdf",
        "bao\ncao.pdf",
        "fdp.\u202eexe.pdf",
    ],
)
def test_rejects_names_with_paths_or_control_characters(org, nomination, name):
    # ContentFile keeps the name as given (an UploadedFile would already have cut it to its basename).
    upload = ContentFile(PDF_BYTES, name=name)

    with pytest.raises(errors.UploadRejected):
        dossiers.dossier_upload(
            nomination=nomination, by=org.hospital_secretary, document_type=org.report_type, upload=upload
        )

    assert_nothing_kept(nomination)


def test_stored_file_lies_inside_dossier_root_under_a_random_name(org, nomination):
    first, second = (
        dossiers.dossier_upload(
            nomination=nomination,
            by=org.hospital_secretary,
            document_type=org.report_type,
            upload=upload_as("bao-cao.pdf", PDF_BYTES),
        )
        for _ in range(2)
    )

    root = Path(django_settings.DOSSIER_ROOT).resolve()
    for saved in (first, second):
        path = Path(saved.file.path).resolve()
        assert path.is_relative_to(root)
        assert re.fullmatch(rf"{nomination.pk}/[0-9a-f]{{32}}\.pdf", path.relative_to(root).as_posix())
    assert first.file.name != second.file.name
    assert files_on_disk() == sorted(Path(saved.file.path) for saved in (first, second))


def test_a_failure_after_the_file_was_written_leaves_nothing_behind(org, nomination, monkeypatch):
    def broken_audit(**kwargs):
        assert len(files_on_disk()) == 1  # the file was on disk when the write failed
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(dossiers, "audit_append", broken_audit)

    with pytest.raises(RuntimeError):
        dossiers.dossier_upload(
            nomination=nomination,
            by=org.hospital_secretary,
            document_type=org.report_type,
            upload=upload_as("bao-cao.pdf", PDF_BYTES),
        )

    assert_nothing_kept(nomination)


@pytest.mark.parametrize("username", ["outsider", "hospital_member", "board_officer", "director"])
def test_a_user_who_may_not_edit_the_dossier_is_refused(org, nomination, username):
    with pytest.raises(errors.PermissionDenied):
        dossiers.dossier_upload(
            nomination=nomination,
            by=getattr(org, username),
            document_type=org.report_type,
            upload=upload_as("bao-cao.pdf", PDF_BYTES),
        )

    assert_nothing_kept(nomination)


def test_download_log_refuses_a_user_who_may_not_see_the_nomination(org, nomination):
    dossier_file = attach_file(nomination, org.report_type, user=org.hospital_secretary)

    with pytest.raises(errors.PermissionDenied):
        dossiers.dossier_download_log(dossier_file=dossier_file, by=org.outsider, ip_address="10.0.0.1")

    assert not DossierDownload.objects.exists()


# --- through the views ----------------------------------------------------------------------------


def client_for(user) -> Client:
    client = Client()
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client


def messages_of(response) -> list[tuple[int, str]]:
    return [(message.level, str(message)) for message in get_messages(response.wsgi_request)]


def post_upload(client, nomination, document_type, name, content):
    return client.post(
        reverse("processes:dossier-upload", args=[nomination.pk]),
        {"document_type": document_type.pk, "file": SimpleUploadedFile(name, content)},
    )


def test_upload_through_the_view_returns_to_the_nomination_with_a_success_message(org, nomination):
    response = post_upload(
        client_for(org.hospital_secretary), nomination, org.report_type, "bao-cao.docx", docx_bytes()
    )

    assert response.status_code == 302
    assert response.url == reverse("processes:nomination-detail", args=[nomination.pk])
    saved = DossierFile.objects.get(nomination=nomination)
    assert (saved.original_name, saved.extension) == ("bao-cao.docx", "docx")
    assert [level for level, _text in messages_of(response)] == [SUCCESS]


def test_a_rejected_upload_through_the_view_returns_with_an_error_and_keeps_nothing(org, nomination):
    response = post_upload(client_for(org.hospital_secretary), nomination, org.report_type, "bao-cao.pdf", ELF_BYTES)

    assert response.status_code == 302
    assert response.url == reverse("processes:nomination-detail", args=[nomination.pk])
    assert [level for level, _text in messages_of(response)] == [ERROR]
    assert_nothing_kept(nomination)


def test_an_oversized_upload_is_stopped_while_the_request_is_read(org, nomination, settings, monkeypatch):
    settings.DOSSIER_MAX_UPLOAD_BYTES = 1000
    reached = []
    monkeypatch.setattr(dossiers, "dossier_upload", lambda **kwargs: reached.append(kwargs))
    client = client_for(org.hospital_secretary)

    with translation.override("en"):
        response = post_upload(client, nomination, org.report_type, "bao-cao.pdf", PDF_BYTES + b"%" * 200_000)

    assert response.status_code == 302
    assert reached == []  # the file never got as far as the service
    [(level, text)] = messages_of(response)
    assert level == ERROR
    assert "limit" in text
    assert_nothing_kept(nomination)


def test_a_traversal_name_sent_raw_never_reaches_the_disk(org, nomination):
    # The test client sends only a basename, so the multipart body is written by hand.
    boundary = "dossier-boundary"
    body = (
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="document_type"\r\n\r\n{org.report_type.pk}\r\n'
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="../../etc/passwd.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + PDF_BYTES
        + f"\r\n--{boundary}--\r\n".encode()
    )

    client_for(org.hospital_secretary).post(
        reverse("processes:dossier-upload", args=[nomination.pk]),
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )

    saved = DossierFile.objects.get(nomination=nomination)
    assert saved.original_name == "passwd.pdf"
    assert Path(saved.file.path).resolve().is_relative_to(Path(django_settings.DOSSIER_ROOT).resolve())


def test_a_member_who_may_see_but_not_edit_gets_an_error_not_a_file(org, nomination):
    response = post_upload(client_for(org.hospital_member), nomination, org.report_type, "bao-cao.pdf", PDF_BYTES)

    assert response.status_code == 302
    assert [level for level, _text in messages_of(response)] == [ERROR]
    assert_nothing_kept(nomination)


def test_uploading_to_a_nomination_the_user_may_not_see_is_not_found(org, nomination):
    response = post_upload(client_for(org.outsider), nomination, org.report_type, "bao-cao.pdf", PDF_BYTES)

    assert response.status_code == 404
    assert_nothing_kept(nomination)


def test_upload_view_accepts_only_post(org, nomination):
    response = client_for(org.hospital_secretary).get(reverse("processes:dossier-upload", args=[nomination.pk]))

    assert response.status_code == 405


def test_upload_view_still_checks_the_csrf_token(org, nomination):
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.hospital_secretary)

    response = post_upload(client, nomination, org.report_type, "bao-cao.pdf", PDF_BYTES)

    assert response.status_code == 403
    assert_nothing_kept(nomination)


def test_an_outsider_downloading_gets_not_found_and_no_log(org, nomination):
    dossier_file = attach_file(nomination, org.report_type, user=org.hospital_secretary)

    response = client_for(org.outsider).get(reverse("processes:dossier-download", args=[dossier_file.pk]))

    assert response.status_code == 404
    assert not DossierDownload.objects.exists()


def test_a_missing_file_id_is_not_found(org):
    response = client_for(org.admin).get(reverse("processes:dossier-download", args=[987654]))

    assert response.status_code == 404


@pytest.mark.parametrize("username", ["hospital_secretary", "hospital_member", "director", "admin"])
def test_an_allowed_download_is_an_attachment_of_the_uploaded_bytes_and_is_logged(org, nomination, username):
    content = docx_bytes()
    post_upload(client_for(org.hospital_secretary), nomination, org.report_type, "Báo cáo thành tích.docx", content)
    dossier_file = DossierFile.objects.get(nomination=nomination)
    user = getattr(org, username)

    response = client_for(user).get(
        reverse("processes:dossier-download", args=[dossier_file.pk]), REMOTE_ADDR="192.0.2.7"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == ACCEPTED["docx"][2]
    assert response["Content-Disposition"].startswith("attachment; filename")
    assert "B%C3%A1o%20c%C3%A1o%20th%C3%A0nh%20t%C3%ADch.docx" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == content
    [logged] = DossierDownload.objects.all()
    assert (logged.file, logged.user, logged.ip_address) == (dossier_file, user, "192.0.2.7")


@pytest.mark.parametrize("route", ["download", "upload"])
def test_an_anonymous_visitor_is_sent_to_the_login_page(org, nomination, route):
    dossier_file = attach_file(nomination, org.report_type, user=org.hospital_secretary)
    client = Client()
    if route == "download":
        response = client.get(reverse("processes:dossier-download", args=[dossier_file.pk]))
    else:
        response = post_upload(client, nomination, org.report_type, "bao-cao.pdf", PDF_BYTES)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert not DossierDownload.objects.exists()
    assert DossierFile.objects.filter(nomination=nomination).count() == 1


# --- the list partial -----------------------------------------------------------------------------


@pytest.mark.parametrize("can_edit", [True, False])
def test_the_file_list_shows_each_file_and_the_form_only_to_editors(org, nomination, can_edit):
    dossier_file = attach_file(nomination, org.report_type, user=org.hospital_secretary, name="ke-hoach.pdf")

    html = render_to_string(
        "processes/_dossier_files.html",
        {
            "nomination": nomination,
            "files": nomination.files.select_related("document_type", "uploaded_by"),
            "document_types": DocumentType.objects.all(),
            "can_edit": can_edit,
        },
    )

    assert "ke-hoach.pdf" in html
    assert org.report_type.name in html
    assert reverse("processes:dossier-download", args=[dossier_file.pk]) in html
    assert (reverse("processes:dossier-upload", args=[nomination.pk]) in html) is can_edit
