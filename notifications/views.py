"""The notification centre: the user's own notifications, marking them read, and preferences."""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from notifications.centre import notification_mark_read, notifications_mark_all_read, notifications_of
from notifications.models import Event, Preference
from processes.forms import IdField, errors_text

PAGE = 50


class CentrePageForm(forms.Form):
    before = IdField(required=False)


def centre(request):
    rows = notifications_of(request.user)
    form = CentrePageForm(request.GET)
    valid = form.is_valid()
    if not valid:
        messages.error(request, errors_text(form))
    elif form.cleaned_data["before"]:
        rows = rows.filter(pk__lt=form.cleaned_data["before"])
    page = list(rows[: PAGE + 1])
    return render(
        request,
        "notifications/centre.html",
        {"rows": page[:PAGE], "more": page[PAGE - 1].pk if len(page) > PAGE else None},
        status=200 if valid else 400,
    )


@require_POST
def read(request, pk):
    """Mark one read and follow its link (a link inside this site only)."""
    row = get_object_or_404(notifications_of(request.user), pk=pk)
    notification_mark_read(notification=row)
    if row.link and url_has_allowed_host_and_scheme(row.link, allowed_hosts={request.get_host()}):
        return redirect(row.link)
    return redirect("notifications:centre")


@require_POST
def read_all(request):
    notifications_mark_all_read(user=request.user)
    return redirect("notifications:centre")


class PreferenceForm(forms.Form):
    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        stored = {row.event: row for row in Preference.objects.filter(user=user)}
        for event, label in Event.choices:
            row = stored.get(event)
            self.fields[f"{event}-in_app"] = forms.BooleanField(
                label=label, required=False, initial=row.in_app if row else True
            )
            self.fields[f"{event}-email"] = forms.BooleanField(required=False, initial=row.email if row else True)
            self.fields[f"{event}-digest"] = forms.BooleanField(required=False, initial=row.digest if row else False)

    def rows(self):
        return [
            (label, self[f"{event}-in_app"], self[f"{event}-email"], self[f"{event}-digest"])
            for event, label in Event.choices
        ]


def preferences(request):
    form = PreferenceForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        for event in Event.values:
            Preference.objects.update_or_create(
                user=request.user,
                event=event,
                defaults={
                    "in_app": form.cleaned_data[f"{event}-in_app"],
                    "email": form.cleaned_data[f"{event}-email"],
                    "digest": form.cleaned_data[f"{event}-digest"],
                },
            )
        messages.success(request, _("Your notification preferences are saved."))
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form})
