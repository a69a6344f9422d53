"""Django's user admin, with names kept as every name is."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from processes.text import NameFormField

User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class NamedUserAdmin(UserAdmin):
    """Django's user admin; first and last names are kept as every name is (``processes.text``)."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in ("first_name", "last_name"):
            kwargs["form_class"] = NameFormField
        return super().formfield_for_dbfield(db_field, request, **kwargs)
