"""Pages of the notes app, mounted under /w/<slug>/notes/."""

from __future__ import annotations

from django.urls import URLPattern, path

from parley.notes import views

urlpatterns: list[URLPattern] = [
    path("", views.note_list, name="notes_list"),
    path("mentionable/", views.mentionable, name="notes_mentionable"),
    path("contact/<int:contact_id>/add/", views.note_add, name="notes_add"),
    path("<int:note_id>/edit/", views.note_edit, name="notes_edit"),
    path("<int:note_id>/pin/", views.note_pin, name="notes_pin"),
    path("<int:note_id>/delete/", views.note_delete, name="notes_delete"),
]
