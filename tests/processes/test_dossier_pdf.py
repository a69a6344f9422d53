"""PDFs carrying JavaScript or launch actions are refused at upload; so is one that cannot be inspected.

Every PDF here is a real file: written by pypdf, or assembled object by object with a correct
cross-reference table (or stream) where pypdf cannot write the structure under test.
"""

import binascii
import io
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pypdf import PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject, TextStringObject

from processes import errors, file_checks
from processes.models import DossierFile
from tests.factories import make_nomination

ACTIVE = "This PDF contains JavaScript or an action that starts a program"
LOCKED = "This PDF is protected by a password"
DAMAGED = "This PDF is damaged and cannot be checked"

CATALOG_PAGES = b"/Type /Catalog /Pages 2 0 R"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"


# --- building real PDFs ------------------------------------------------------------------------------


def written(writer: PdfWriter) -> bytes:
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def one_page_writer() -> PdfWriter:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    return writer


def classic_pdf(objects: list[bytes], *, after: bytes = b"") -> bytes:
    """A PDF 1.4 file of ``objects`` (numbered from 1, object 1 the catalog) with its xref table;
    ``after`` is appended after the end-of-file marker."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out + after)


def packed_pdf(action: bytes, *, hex_encoded: bool = False, listed: bool = True) -> bytes:
    """A PDF 1.5 file whose catalog opens with action 4 0 R, object 4 packed in a compressed object
    stream (object 5), listed (or not) by a cross-reference stream (object 6)."""
    index = b"4 0 "
    packed = zlib.compress(index + action)
    filters = b"/FlateDecode"
    if hex_encoded:
        packed = binascii.hexlify(packed) + b">"
        filters = b"[/ASCIIHexDecode /FlateDecode]"
    bodies = {
        1: b"<< " + CATALOG_PAGES + b" /OpenAction 4 0 R >>",
        2: PAGES,
        3: PAGE,
        5: b"<< /Type /ObjStm /N 1 /First %d /Filter %s /Length %d >>\nstream\n%s\nendstream"
        % (len(index), filters, len(packed), packed),
    }
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number, body in bodies.items():
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    offsets[6] = len(out)
    rows = [(0, 0, 65535)]
    for number in range(1, 7):
        if number == 4:
            rows.append((2, 5, 0) if listed else (0, 0, 0))
        else:
            rows.append((1, offsets[number], 0))
    table = b"".join(bytes([kind]) + field.to_bytes(4, "big") + extra.to_bytes(2, "big") for kind, field, extra in rows)
    out += b"6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (
        len(table),
        table,
    )
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[6]
    return bytes(out)


JS_ACTION = b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"
LAUNCH_ACTION = b"<< /S /Launch /Win << /F (cmd.exe) /P (/c calc) >> >>"


def check(content: bytes):
    file_checks.check_pdf(SimpleUploadedFile("bao-cao.pdf", content))


def refusal(content: bytes) -> str:
    with pytest.raises(errors.UploadRejected) as caught:
        check(content)
    return str(caught.value)


# --- accepted ------------------------------------------------------------------------------------------


def test_a_plain_pdf_is_accepted():
    check(written(one_page_writer()))
    check(classic_pdf([b"<< " + CATALOG_PAGES + b" >>", PAGES, PAGE]))
    check(packed_pdf(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"))


def test_a_pdf_with_an_ordinary_link_and_js_bytes_inside_its_images_is_accepted():
    """ "/JS" inside stream data (a scan, a font) is data, not a name: no false alarm."""
    writer = one_page_writer()
    image = DecodedStreamObject()
    image.set_data(b"\x00\x10/JS /Launch /JavaScript\xff" * 50)
    image.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Image")})
    writer._add_object(image)
    link = DictionaryObject({NameObject("/S"): NameObject("/URI"), NameObject("/URI"): TextStringObject("https://x")})
    writer.root_object[NameObject("/OpenAction")] = writer._add_object(link)
    check(written(writer))


def test_an_owner_restricted_pdf_without_a_user_password_is_inspected_and_accepted():
    writer = one_page_writer()
    writer.encrypt(user_password="", owner_password="chu-so-huu", algorithm="AES-256")
    check(written(writer))


# --- refused -------------------------------------------------------------------------------------------


def test_document_level_javascript_is_refused():
    writer = one_page_writer()
    writer.add_open_action(JavaScript("app.alert('xin chào');"))
    assert ACTIVE in refusal(written(writer))


def test_an_open_action_running_javascript_is_refused():
    assert ACTIVE in refusal(classic_pdf([b"<< " + CATALOG_PAGES + b" /OpenAction 4 0 R >>", PAGES, PAGE, JS_ACTION]))


def test_a_launch_action_written_inline_is_refused():
    assert ACTIVE in refusal(
        classic_pdf([b"<< " + CATALOG_PAGES + b" /OpenAction " + LAUNCH_ACTION + b" >>", PAGES, PAGE])
    )


@pytest.mark.parametrize(
    "action",
    [
        b"<< /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>",
        b"<< /S /#4Aava#53cript /#4A#53 (app.alert\\(1\\)) >>",
        b"<< /S /L#61unch /F (cmd.exe) >>",
    ],
)
def test_names_hidden_with_hex_escapes_are_refused(action):
    assert ACTIVE in refusal(classic_pdf([b"<< " + CATALOG_PAGES + b" /OpenAction 4 0 R >>", PAGES, PAGE, action]))


def test_an_open_action_pointing_into_a_compressed_object_stream_is_refused():
    assert ACTIVE in refusal(packed_pdf(JS_ACTION))
    assert ACTIVE in refusal(packed_pdf(LAUNCH_ACTION))


def test_a_javascript_action_behind_two_stream_filters_is_found_by_pypdf():
    """The raw scan inflates Flate object streams only; pypdf decodes every filter of listed ones."""
    content = packed_pdf(JS_ACTION, hex_encoded=True)
    assert not {"/JavaScript", "/JS"} & set(file_checks.raw_pdf_names(content))
    assert ACTIVE in refusal(content)


def test_an_object_no_table_lists_is_found_by_the_raw_scan():
    """A reader repairing the file would still find these objects; pypdf, reading the tables, does not."""
    unlisted = b"9 0 obj\n" + LAUNCH_ACTION + b"\nendobj\n"
    content = classic_pdf([b"<< " + CATALOG_PAGES + b" >>", PAGES, PAGE], after=unlisted)
    assert ACTIVE in refusal(content)
    # Inside an object stream the tables do not list, too.
    assert ACTIVE in refusal(packed_pdf(JS_ACTION, listed=False))


def test_a_password_protected_pdf_is_refused_as_such():
    writer = one_page_writer()
    writer.encrypt(user_password="mat-khau", owner_password="chu-so-huu", algorithm="AES-256")
    assert LOCKED in refusal(written(writer))


def test_javascript_in_an_owner_restricted_pdf_is_found_through_the_encryption():
    writer = one_page_writer()
    writer.add_open_action(JavaScript("app.alert(1);"))
    writer.encrypt(user_password="", owner_password="chu-so-huu", algorithm="AES-128")
    assert ACTIVE in refusal(written(writer))


def test_a_pdf_that_cannot_be_read_is_refused_as_damaged():
    assert DAMAGED in refusal(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n")


# --- through the upload ----------------------------------------------------------------------------------


def test_an_upload_with_javascript_is_refused_in_vietnamese_and_nothing_is_kept(org):
    nomination = make_nomination(org)
    writer = one_page_writer()
    writer.add_open_action(JavaScript("app.launchURL('https://example.invalid');"))
    client = Client()  # Vietnamese, the default
    client.force_login(org.hospital_secretary)

    response = client.post(
        reverse("processes:dossier-upload", args=[nomination.pk]),
        {"document_type": org.report_type.pk, "file": SimpleUploadedFile("bao-cao.pdf", written(writer))},
        follow=True,
    )

    assert "Tệp PDF này chứa JavaScript hoặc lệnh khởi chạy chương trình" in response.content.decode()
    assert not DossierFile.objects.exists()


def test_an_upload_of_a_password_protected_pdf_is_refused_in_vietnamese(org):
    nomination = make_nomination(org)
    writer = one_page_writer()
    writer.encrypt(user_password="mat-khau", algorithm="AES-256")
    client = Client()
    client.force_login(org.hospital_secretary)

    response = client.post(
        reverse("processes:dossier-upload", args=[nomination.pk]),
        {"document_type": org.report_type.pk, "file": SimpleUploadedFile("bao-cao.pdf", written(writer))},
        follow=True,
    )

    assert "Tệp PDF này được đặt mật khẩu nên không thể kiểm tra nội dung" in response.content.decode()
    assert not DossierFile.objects.exists()
