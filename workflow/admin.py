"""The audit log in the admin: for reading only, whoever asks.

Entries are written by ``workflow.audit.audit_append`` and nowhere else; the admin must not become
a second way to add, edit or delete them, not even for a superuser (whose ``has_perm`` is always
True, so the permission methods below return False instead of asking it).
"""

from django.contrib import admin

from workflow.models import AuditChain, AuditEntry


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AuditEntryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = AuditEntry
    fields = ("seq", "action", "actor", "from_state", "to_state", "comment", "created_at")
    ordering = ("seq",)
    extra = 0
    show_change_link = True

    def get_queryset(self, request):
        # Each row prints its entry, whose name includes the chain and its subject type.
        return super().get_queryset(request).select_related("actor", "chain__content_type")


@admin.register(AuditChain)
class AuditChainAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "content_type", "object_id", "last_seq")
    list_filter = ("content_type",)
    list_select_related = ("content_type",)
    search_fields = ("=object_id",)
    fields = ("content_type", "object_id", "last_seq", "last_hash")
    inlines = (AuditEntryInline,)
    show_full_result_count = False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("chain", "seq", "action", "actor", "from_state", "to_state", "created_at")
    list_display_links = ("chain", "seq")
    list_filter = ("action",)
    list_select_related = ("chain__content_type", "actor")
    search_fields = ("action", "comment")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-pk")
    fields = (
        "chain",
        "seq",
        "action",
        "actor",
        "from_state",
        "to_state",
        "comment",
        "data",
        "created_at",
        "prev_hash",
        "hash",
    )
    # Counting a large log on every page is the slow part of the changelist; the paginator's
    # count for the filtered page is enough.
    show_full_result_count = False
