"""Pages of the scheduled app, mounted under /w/<slug>/scheduled/."""

from __future__ import annotations

from django.urls import URLPattern, path

from parley.scheduled import views

urlpatterns: list[URLPattern] = [
    path("", views.scheduled_index, name="scheduled_index"),
    path("new/", views.scheduled_new, name="scheduled_new"),
    path("contacts/", views.scheduled_contacts, name="scheduled_contacts"),
    path("mapping/", views.scheduled_mapping, name="scheduled_mapping"),
    path("<int:scheduled_id>/", views.scheduled_edit, name="scheduled_edit"),
    path("<int:scheduled_id>/cancel/", views.scheduled_cancel, name="scheduled_cancel"),
]
