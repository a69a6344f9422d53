"""The audit log's tables: one chain head per subject and its append-only entries."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditChain(models.Model):
    """The head of one subject's audit chain: the last sequence number and hash.

    Appends lock this row, so writers for one subject queue up while writers for different
    subjects never wait on each other; and because the head remembers the last hash, deleting
    the newest entry is detected, which a chain of entries alone cannot show.
    """

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, verbose_name=_("subject type"))
    object_id = models.PositiveBigIntegerField(_("subject id"))
    last_seq = models.PositiveIntegerField(_("last sequence"), default=0)
    last_hash = models.CharField(_("last hash"), max_length=64, default="")

    class Meta:
        verbose_name = _("audit chain")
        verbose_name_plural = _("audit chains")
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id"],
                name="audit_chain_subject_unique",
                violation_error_message=_("This subject already has an audit chain."),
            ),
        ]

    def __str__(self):
        return f"{self.content_type.app_label}.{self.content_type.model}:{self.object_id}"


class AuditEntry(models.Model):
    """One append-only row per transition or decision; hashed with its predecessor's hash."""

    chain = models.ForeignKey(AuditChain, on_delete=models.PROTECT, related_name="entries", verbose_name=_("chain"))
    seq = models.PositiveIntegerField(_("sequence"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    action = models.CharField(_("action"), max_length=100)
    from_state = models.CharField(_("from"), max_length=40, blank=True)
    to_state = models.CharField(_("to"), max_length=40, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"))
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["chain_id", "seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["chain", "seq"],
                name="audit_entry_chain_seq_unique",
                violation_error_message=_("This audit chain already has an entry with this sequence number."),
            ),
        ]

    def __str__(self):
        return f"{self.chain} #{self.seq} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Audit entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit entries are append-only.")
