"""Pages of the search app, mounted under /w/<slug>/search/."""

from __future__ import annotations

from django.urls import URLPattern, path

from parley.search import views

urlpatterns: list[URLPattern] = [
    path("", views.search_page, name="search"),
    path("saved/<int:saved_search_id>/delete/", views.saved_delete, name="search_saved_delete"),
]
