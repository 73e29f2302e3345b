"""Pages of the broadcasts app, mounted under /w/<slug>/broadcasts/."""

from __future__ import annotations

from django.urls import URLPattern, path

from parley.broadcasts import views

urlpatterns: list[URLPattern] = [
    path("", views.broadcasts_index, name="broadcasts_index"),
    path("new/", views.broadcasts_create, name="broadcasts_create"),
    path("<int:broadcast_id>/", views.broadcasts_detail, name="broadcasts_detail"),
    path("<int:broadcast_id>/save/", views.broadcasts_save, name="broadcasts_save"),
    path("<int:broadcast_id>/mapping/", views.broadcasts_mapping, name="broadcasts_mapping"),
    path("<int:broadcast_id>/delete/", views.broadcasts_delete, name="broadcasts_delete"),
    path("<int:broadcast_id>/pause/", views.broadcasts_pause, name="broadcasts_pause"),
    path("<int:broadcast_id>/resume/", views.broadcasts_resume, name="broadcasts_resume"),
    path("<int:broadcast_id>/cancel/", views.broadcasts_cancel, name="broadcasts_cancel"),
    path("<int:broadcast_id>/retry/", views.broadcasts_retry, name="broadcasts_retry"),
    path(
        "<int:broadcast_id>/reschedule/", views.broadcasts_reschedule, name="broadcasts_reschedule"
    ),
    path("<int:broadcast_id>/progress/", views.broadcasts_progress, name="broadcasts_progress"),
    path(
        "<int:broadcast_id>/recipients/", views.broadcasts_recipients, name="broadcasts_recipients"
    ),
    path("<int:broadcast_id>/export.csv", views.broadcasts_export, name="broadcasts_export"),
]
