"""Append-only audit events, hash-chained per county.

Each event stores the hash of the one before it in the same chain (one chain per county, one
for events that belong to no county) and its own hash over its content. Editing, deleting or
inserting an event breaks the chain at that point, which ``gongzhi audit verify`` reports.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    pass


class AuditChain(models.Model):
    """The head of one chain: its last sequence number and hash. Locked to append."""

    key = models.CharField(max_length=40, primary_key=True)  # "county:<id>" or "global"
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="")

    class Meta:
        verbose_name = _("审计链")

    def __str__(self) -> str:
        return f"{self.key}#{self.last_seq}"


class AuditEvent(models.Model):
    chain = models.CharField(max_length=40)
    seq = models.BigIntegerField()
    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+", db_constraint=False)
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", db_constraint=False)
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["chain", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_chain_seq_unique"),
        ]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["county", "at"], name="audit_county_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.chain}#{self.seq} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events are append-only.")
