"""Pages of the msgtemplates app, mounted under /w/<slug>/templates/."""

from __future__ import annotations

from django.urls import URLPattern, path

from parley.msgtemplates import views

urlpatterns: list[URLPattern] = [
    path("", views.msgtemplates_index, name="msgtemplates_index"),
    path("new/", views.msgtemplates_new, name="msgtemplates_new"),
    path("preview/", views.msgtemplates_preview, name="msgtemplates_preview"),
    path("sync/", views.msgtemplates_sync, name="msgtemplates_sync"),
    path("<int:template_id>/", views.msgtemplates_detail, name="msgtemplates_detail"),
    path("<int:template_id>/edit/", views.msgtemplates_edit, name="msgtemplates_edit"),
    path("<int:template_id>/delete/", views.msgtemplates_delete, name="msgtemplates_delete"),
]
