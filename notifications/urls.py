from django.urls import path

from notifications import views
from processes import converters  # noqa: F401  (registers <id:…>)

app_name = "notifications"
urlpatterns = [
    path("", views.centre, name="centre"),
    path("<id:pk>/read/", views.read, name="read"),
    path("read-all/", views.read_all, name="read-all"),
    path("preferences/", views.preferences, name="preferences"),
]
