"""Pages of the todos app, mounted under /w/<slug>/tasks/."""

from __future__ import annotations

from django.urls import URLPattern, path

from parley.todos import views

urlpatterns: list[URLPattern] = [
    path("", views.todos_list, name="todos_list"),
    path("new/", views.todos_create, name="todos_create"),
    path("badge/", views.todos_badge, name="todos_badge"),
    path("<int:task_id>/", views.todos_edit, name="todos_edit"),
    path("<int:task_id>/toggle/", views.todos_toggle, name="todos_toggle"),
]
