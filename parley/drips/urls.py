"""Pages of the drips app, mounted under /w/<slug>/drips/."""

from __future__ import annotations

from django.urls import URLPattern, path

from parley.drips import views

urlpatterns: list[URLPattern] = [
    path("", views.drips_index, name="drips_index"),
    path("new/", views.drips_new, name="drips_new"),
    path("contact/<int:contact_id>/enrol/", views.drips_enrol_contact, name="drips_enrol_contact"),
    path("<int:sequence_id>/", views.drips_detail, name="drips_detail"),
    path("<int:sequence_id>/settings/", views.drips_settings, name="drips_settings"),
    path("<int:sequence_id>/toggle/", views.drips_toggle, name="drips_toggle"),
    path("<int:sequence_id>/delete/", views.drips_delete, name="drips_delete"),
    path("<int:sequence_id>/steps/new/", views.drips_step_new, name="drips_step_new"),
    path("<int:sequence_id>/steps/mapping/", views.drips_step_mapping, name="drips_step_mapping"),
    path("<int:sequence_id>/steps/<int:step_id>/", views.drips_step_edit, name="drips_step_edit"),
    path(
        "<int:sequence_id>/steps/<int:step_id>/delete/",
        views.drips_step_delete,
        name="drips_step_delete",
    ),
    path(
        "<int:sequence_id>/steps/<int:step_id>/move/",
        views.drips_step_move,
        name="drips_step_move",
    ),
    path("<int:sequence_id>/subscribers/", views.drips_subscribers, name="drips_subscribers"),
    path("<int:sequence_id>/contacts/", views.drips_contact_search, name="drips_contact_search"),
    path("<int:sequence_id>/enrol/", views.drips_enrol, name="drips_enrol"),
    path(
        "<int:sequence_id>/subscribers/<int:enrolment_id>/remove/",
        views.drips_remove,
        name="drips_remove",
    ),
    path("<int:sequence_id>/stats/", views.drips_stats, name="drips_stats"),
    path("<int:sequence_id>/log/", views.drips_log, name="drips_log"),
]
