"""What an uploaded file is, judged by what it contains; whether its name can be shown back.

What a file is comes from its first bytes (and, for Word and Excel, from the parts inside the zip),
never from its name or the browser's content type; a PDF is refused when it carries scripts or launch
actions. Used by ``processes.services.dossiers``.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import zipfile
import zlib
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.files import File
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

from processes import errors
from processes.text import invisible_characters, normalise


@dataclass(frozen=True)
class FileKind:
    extension: str  # given to the stored file
    content_type: str  # sent back on download
    name_extensions: frozenset[str]  # endings of a display name that already say this kind


PDF = FileKind("pdf", "application/pdf", frozenset({"pdf"}))
JPEG = FileKind("jpg", "image/jpeg", frozenset({"jpg", "jpeg", "jpe", "jfif"}))
PNG = FileKind("png", "image/png", frozenset({"png"}))
DOCX = FileKind("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", frozenset({"docx"}))
XLSX = FileKind("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", frozenset({"xlsx"}))

#: filetype's verdict on the first bytes → the kind stored, for kinds the signature settles alone.
_BY_SIGNATURE = {"pdf": PDF, "jpg": JPEG, "png": PNG, "apng": PNG}
#: Verdicts that are zips; the parts inside decide whether it is a Word or Excel document.
_ZIP_VERDICTS = {"docx", "xlsx", "zip"}
#: The main part of each OOXML kind, and the content type ``[Content_Types].xml`` must give it. The
#: macro-enabled DOCM/XLSM declare another type for the same part, so they do not pass as DOCX/XLSX.
_OOXML_MAIN_PART = {
    DOCX: ("word/document.xml", b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    XLSX: ("xl/workbook.xml", b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: filetype reads no further than this.
SIGNATURE_BYTES = 8192
#: A zip whose parts would unpack to more than this is refused unopened (an archive bomb, or not a
#: document anyone can read). The figures come from the zip's directory, so checking costs nothing.
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
MAX_ZIP_ENTRIES = 5000
MAX_CONTENT_TYPES_BYTES = 1024 * 1024
MAX_NAME_LENGTH = 255  # DossierFile.original_name

ACCEPTED_KINDS = _("PDF, Word (DOCX), Excel (XLSX), JPEG and PNG")

#: PDF names that make a reader run code or a program: JavaScript actions (/S /JavaScript, /JS) and the
#: document's JavaScript name tree (/Names << /JavaScript ... >>), and launch actions (/S /Launch).
ACTIVE_PDF_NAMES = frozenset({"/JavaScript", "/JS", "/Launch"})
#: The raw scan decompresses object streams up to this size in all (a compression bomb stops there).
MAX_OBJECT_STREAMS_BYTES = 64 * 1024 * 1024


# --- errors ---------------------------------------------------------------------------------------


def size_limit_error(*, size: int | None = None) -> errors.FileTooLarge:
    """The refusal of a file over ``settings.DOSSIER_MAX_UPLOAD_BYTES``; the upload view uses it too."""
    limit = filesizeformat(settings.DOSSIER_MAX_UPLOAD_BYTES)
    if size is None:
        return errors.FileTooLarge(
            _(
                "The file is larger than the limit of %(limit)s. "
                "Reduce it (for example, scan at a lower resolution) or split it."
            )
            % {"limit": limit}
        )
    return errors.FileTooLarge(
        _(
            "The file is %(size)s, more than the limit of %(limit)s. "
            "Reduce it (for example, scan at a lower resolution) or split it."
        )
        % {"size": filesizeformat(size), "limit": limit}
    )


def _kind_refused(found: str | None) -> errors.UploadRejected:
    if found:
        return errors.UploadRejected(
            _(
                "The content of this file is %(found)s, which is not accepted, whatever its name says. "
                "Accepted: %(accepted)s."
            )
            % {"found": found.upper(), "accepted": ACCEPTED_KINDS}
        )
    return errors.UploadRejected(
        _("The content of this file is not of an accepted type, whatever its name says. Accepted: %(accepted)s.")
        % {"accepted": ACCEPTED_KINDS}
    )


def _not_office_document() -> errors.UploadRejected:
    return errors.UploadRejected(
        _("This file is a ZIP archive, not a Word (DOCX) or Excel (XLSX) document. Accepted: %(accepted)s.")
        % {"accepted": ACCEPTED_KINDS}
    )


def _pdf_with_active_content() -> errors.UploadRejected:
    return errors.UploadRejected(
        _(
            "This PDF contains JavaScript or an action that starts a program, which a dossier may not carry. "
            "Print it again to a new PDF (or scan the paper document), then upload that file."
        )
    )


def _pdf_locked() -> errors.UploadRejected:
    return errors.UploadRejected(
        _(
            "This PDF is protected by a password, so its content cannot be checked. "
            "Save or print it again as a PDF without a password, then upload it."
        )
    )


def _pdf_unreadable() -> errors.UploadRejected:
    return errors.UploadRejected(
        _("This PDF is damaged and cannot be checked. Save or print it again as a PDF, then upload it.")
    )


# --- the display name -----------------------------------------------------------------------------


def display_name(raw: str | None) -> str:
    """The client's file name, checked and normalised, for showing back; it never reaches the disk."""
    # macOS sends decomposed Vietnamese letters; store the composed form people search for.
    name = normalise(raw or "").strip()
    if not name:
        raise errors.UploadRejected(
            _("The file has no name. Give it a name such as “bao-cao.pdf” and upload it again.")
        )
    if "/" in name or "\\" in name or name in {".", ".."}:
        raise errors.UploadRejected(
            _(
                "The file name must be a plain name, without folders (“/” or “\\”) or “..”. "
                "Upload the file under a name such as “bao-cao.pdf”."
            )
        )
    if invisible_characters(name):
        raise errors.UploadRejected(
            _(
                "The file name contains invisible control characters. Rename the file using letters, digits, "
                "spaces, dots, hyphens and underscores, then upload it again."
            )
        )
    return name


def name_saying(name: str, kind: FileKind) -> str:
    """``name``, ending in ``kind``'s extension, so a saved download opens in the right program."""
    _stem, dot, ending = name.rpartition(".")
    if dot and ending.lower() in kind.name_extensions:
        return name[:MAX_NAME_LENGTH]
    suffix = f".{kind.extension}"
    return name[: MAX_NAME_LENGTH - len(suffix)] + suffix


# --- what the file is ----------------------------------------------------------------------------


def detect_kind(upload: File) -> FileKind:
    upload.seek(0)
    head = upload.read(SIGNATURE_BYTES)
    upload.seek(0)
    if not head:
        raise errors.UploadRejected(_("The file is empty."))
    verdict = filetype.guess(head)
    found = verdict.extension if verdict else None
    if found in _ZIP_VERDICTS:
        return _office_kind(upload)
    kind = _BY_SIGNATURE.get(found)
    if kind is None or (kind is PNG and not head.startswith(PNG_SIGNATURE)):
        raise _kind_refused(found)
    return kind


def _office_kind(upload: File) -> FileKind:
    """Which OOXML kind the zip really is, judged from its directory and ``[Content_Types].xml``.

    Only ``[Content_Types].xml`` is decompressed, and at most MAX_CONTENT_TYPES_BYTES of it.
    """
    try:
        with zipfile.ZipFile(upload) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ZIP_ENTRIES or sum(entry.file_size for entry in entries) > MAX_UNPACKED_BYTES:
                raise errors.UploadRejected(
                    _(
                        "This document would unpack to more than %(limit)s and is refused as a possible archive "
                        "bomb. Save it again from Word or Excel, or split it, then upload it."
                    )
                    % {"limit": filesizeformat(MAX_UNPACKED_BYTES)}
                )
            names = {entry.filename for entry in entries}
            if "[Content_Types].xml" not in names:
                raise _not_office_document()
            with archive.open("[Content_Types].xml") as handle:
                declared = handle.read(MAX_CONTENT_TYPES_BYTES)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise errors.UploadRejected(
            _("This document is damaged and cannot be checked. Save it again from Word or Excel, then upload it.")
        ) from exc
    except (RuntimeError, NotImplementedError) as exc:  # encrypted parts, unknown compression
        raise errors.UploadRejected(
            _(
                "This document is password-protected or saved in a way that cannot be checked. "
                "Save it again from Word or Excel without a password, then upload it."
            )
        ) from exc
    finally:
        upload.seek(0)
    if b"macroEnabled" in declared or any(name.endswith("vbaProject.bin") for name in names):
        raise errors.UploadRejected(
            _("Documents with macros (DOCM, XLSM) are not accepted. Save it as DOCX or XLSX without macros.")
        )
    kinds = [
        kind
        for kind, (main_part, content_type) in _OOXML_MAIN_PART.items()
        if main_part in names and content_type in declared
    ]
    if len(kinds) != 1:
        raise _not_office_document()
    return kinds[0]


def check_pdf(upload: File) -> None:
    """Refuse a PDF carrying JavaScript or a launch action, or one that cannot be inspected.

    pypdf reads every object the cross-reference tables name, those packed in compressed object
    streams and those of a password-free encryption included, and the names in each are compared
    (pypdf decodes ``#xx`` escapes). A raw scan of the bytes then finds what a reader repairing a
    damaged file could still reach though no table names it.
    """
    upload.seek(0)
    data = upload.read()  # at most DOSSIER_MAX_UPLOAD_BYTES, checked before
    upload.seek(0)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise _pdf_locked()
        active = any(name in ACTIVE_PDF_NAMES for name in _pdf_names(reader))
    except errors.UploadRejected:
        raise
    except Exception as exc:  # pypdf meets malformed files with errors of many kinds
        logging.getLogger(__name__).info("PDF refused as unreadable: %r", exc)
        raise _pdf_unreadable() from exc
    if active or any(name in ACTIVE_PDF_NAMES for name in raw_pdf_names(data)):
        raise _pdf_with_active_content()


def _pdf_names(reader: PdfReader):
    """Every name (dictionary keys included) in the trailer and in every object the file lists."""
    objects = [reader.trailer]
    for generation, numbers in reader.xref.items():
        objects += [IndirectObject(number, generation, reader) for number in numbers]
    objects += [IndirectObject(number, 0, reader) for number in reader.xref_objStm]
    for item in objects:
        # Each listed object is visited once, here: references inside are not followed.
        pending = [item.get_object() if isinstance(item, IndirectObject) else item]
        while pending:
            value = pending.pop()
            if isinstance(value, NameObject):
                yield str(value)
            elif isinstance(value, DictionaryObject):  # streams too: their dictionary
                for key, inner in dict.items(value):
                    yield str(key)
                    pending.append(inner)
            elif isinstance(value, ArrayObject):
                pending.extend(value)


#: A stream's data, from the ``stream`` keyword after its dictionary to ``endstream``.
_RAW_STREAM = re.compile(rb"(>>\s*)stream(?:\r\n|\r|\n)(.*?)endstream", re.S)
_RAW_NAME = re.compile(rb"/([^\x00\t\n\f\r ()<>\[\]{}/%]*)")
_RAW_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


def _raw_names(text: bytes):
    for match in _RAW_NAME.finditer(text):
        raw = _RAW_ESCAPE.sub(lambda escape: bytes([int(escape.group(1), 16)]), match.group(1))
        yield "/" + raw.decode("latin-1")


def raw_pdf_names(data: bytes):
    """Names found in the bytes outside stream data, and inside the object streams' compressed data.

    Other streams (pages, images, fonts) are skipped: binary data holds "/JS" by chance.
    """
    yield from _raw_names(_RAW_STREAM.sub(rb"\1", data))
    budget = MAX_OBJECT_STREAMS_BYTES
    for match in _RAW_STREAM.finditer(data):
        # The stream's dictionary: from its object's "N G obj" header to the "stream" keyword.
        header = data.rfind(b"obj", max(0, match.start() - 4096), match.start())
        if header < 0 or "/ObjStm" not in set(_raw_names(data[header : match.start(2)])):
            continue
        try:
            unpacked = zlib.decompressobj().decompress(match.group(2), budget)
        except zlib.error:
            continue  # not Flate, or damaged: pypdf judged the listed ones
        yield from _raw_names(unpacked)
        budget -= len(unpacked)
        if budget <= 0:
            return


class MeasuredStream(File):
    """Hands the upload to the storage chunk by chunk, hashing and counting on the way.

    Having no ``temporary_file_path``, it makes the storage copy rather than move a spooled upload,
    so every byte written passes through the hash and the size check.
    """

    def __init__(self, upload: File, *, limit: int):
        super().__init__(upload, name=upload.name)
        self.limit = limit
        self.digest = hashlib.sha256()
        self.bytes_read = 0

    def chunks(self, chunk_size=None):
        for chunk in self.file.chunks(chunk_size):
            self.bytes_read += len(chunk)
            if self.bytes_read > self.limit:
                raise size_limit_error()
            self.digest.update(chunk)
            yield chunk
