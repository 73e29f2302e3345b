"""Pages of the segments app, mounted under /w/<slug>/segments/."""

from __future__ import annotations

from django.urls import URLPattern, path

from parley.segments import views

urlpatterns: list[URLPattern] = [
    path("", views.segments_list, name="segments_list"),
    path("new/", views.segments_new, name="segments_new"),
    path("preview/", views.segments_preview, name="segments_preview"),
    path("condition/", views.segments_condition, name="segments_condition"),
    path("<int:segment_id>/", views.segments_edit, name="segments_edit"),
    path("<int:segment_id>/count/", views.segments_count, name="segments_count"),
    path("<int:segment_id>/delete/", views.segments_delete, name="segments_delete"),
]
