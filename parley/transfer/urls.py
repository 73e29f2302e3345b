"""Pages of the transfer app, mounted under /w/<slug>/transfer/."""

from __future__ import annotations

from django.urls import URLPattern, path

from parley.transfer import views

urlpatterns: list[URLPattern] = [
    path("", views.index, name="transfer_index"),
    path("imports/new/", views.import_new, name="transfer_import_new"),
    path("imports/<int:import_id>/", views.import_detail, name="transfer_import"),
    path("imports/<int:import_id>/preview/", views.import_preview, name="transfer_import_preview"),
    path(
        "imports/<int:import_id>/progress/",
        views.import_progress,
        name="transfer_import_progress",
    ),
    path("imports/<int:import_id>/errors/", views.import_errors, name="transfer_import_errors"),
    path(
        "exports/<int:export_id>/progress/",
        views.export_progress,
        name="transfer_export_progress",
    ),
    path(
        "exports/<int:export_id>/download/",
        views.export_download,
        name="transfer_export_download",
    ),
]
