"""Pages of the workflows app, mounted under /w/<slug>/automation/workflows/."""

from __future__ import annotations

from django.urls import URLPattern, path

from parley.workflows import views

urlpatterns: list[URLPattern] = [
    path("", views.workflows_index, name="workflows_index"),
    path("<int:workflow_id>/", views.workflows_builder, name="workflows_builder"),
    path("<int:workflow_id>/trigger/", views.workflows_trigger, name="workflows_trigger"),
    path("<int:workflow_id>/steps/", views.workflows_insert, name="workflows_insert"),
    path("<int:workflow_id>/steps/<slug:step_key>/", views.workflows_step, name="workflows_step"),
    path(
        "<int:workflow_id>/steps/<slug:step_key>/delete/",
        views.workflows_step_delete,
        name="workflows_step_delete",
    ),
    path(
        "<int:workflow_id>/steps/<slug:step_key>/move/",
        views.workflows_step_move,
        name="workflows_step_move",
    ),
    path("<int:workflow_id>/publish/", views.workflows_publish, name="workflows_publish"),
    path("<int:workflow_id>/toggle/", views.workflows_toggle, name="workflows_toggle"),
    path("<int:workflow_id>/rename/", views.workflows_rename, name="workflows_rename"),
    path("<int:workflow_id>/delete/", views.workflows_delete, name="workflows_delete"),
    path("<int:workflow_id>/dry-run/", views.workflows_dry_run, name="workflows_dry_run"),
]
