"""Pages of auto-tag rules, mounted under /w/<slug>/automation/rules/."""

from __future__ import annotations

from django.urls import URLPattern, path

from parley.autotag import views

urlpatterns: list[URLPattern] = [
    path("", views.autotag_index, name="autotag_index"),
    path("new/", views.autotag_new, name="autotag_new"),
    path("preview/", views.autotag_preview, name="autotag_preview"),
    path("<int:rule_id>/", views.autotag_edit, name="autotag_edit"),
    path("<int:rule_id>/move/", views.autotag_move, name="autotag_move"),
    path("<int:rule_id>/toggle/", views.autotag_toggle, name="autotag_toggle"),
    path("<int:rule_id>/delete/", views.autotag_delete, name="autotag_delete"),
]
