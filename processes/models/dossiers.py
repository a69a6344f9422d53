"""Dossier files, stored outside any web root, and their download log."""

import os
import uuid

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from processes.models.nominations import Nomination
from processes.models.reference import DocumentType


class DossierStorage(FileSystemStorage):
    """Files under ``settings.DOSSIER_ROOT``, read when used rather than at import, and no URL:
    dossiers are served only through the permission-checked download view."""

    def __init__(self):
        super().__init__(base_url=None)

    @property
    def base_location(self):
        return settings.DOSSIER_ROOT

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    @property
    def base_url(self):
        return None


def _dossier_storage():
    return DossierStorage()


def _dossier_path(instance, filename):
    # The client's name never reaches the disk: a random name with the extension of the detected type.
    return f"{instance.nomination_id}/{uuid.uuid4().hex}.{instance.extension}"


class DossierFileQuerySet(models.QuerySet):
    def kept(self):
        """The files of the dossier now: not removed (nor replaced)."""
        return self.filter(removed_at__isnull=True)


class DossierFile(models.Model):
    """A file of a nomination's dossier. Removing or replacing one keeps its row and its stored file
    for the audit (``removed_at``); the case shows only the files kept."""

    nomination = models.ForeignKey(
        Nomination, on_delete=models.PROTECT, related_name="files", verbose_name=_("nomination")
    )
    document_type = models.ForeignKey(DocumentType, on_delete=models.PROTECT, verbose_name=_("document type"))
    file = models.FileField(_("file"), storage=_dossier_storage, upload_to=_dossier_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=120)
    extension = models.CharField(max_length=10)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("removed by"),
    )
    replaced_by = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaces",
        verbose_name=_("replaced by"),
    )

    objects = DossierFileQuerySet.as_manager()

    class Meta:
        verbose_name = _("dossier file")
        verbose_name_plural = _("dossier files")
        ordering = ["uploaded_at", "id"]
        indexes = [models.Index(fields=["nomination", "document_type"])]

    def __str__(self):
        return self.original_name


class DossierDownload(models.Model):
    file = models.ForeignKey(DossierFile, on_delete=models.PROTECT, related_name="downloads", verbose_name=_("file"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("user")
    )
    at = models.DateTimeField(_("time"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("dossier download")
        verbose_name_plural = _("dossier downloads")
        ordering = ["-at"]

    def __str__(self):
        return f"{self.user} ← {self.file}"
