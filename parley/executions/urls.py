"""Pages of the execution logs, mounted under /w/<slug>/automation/logs/."""

from __future__ import annotations

from django.urls import URLPattern, path

from parley.executions import views

urlpatterns: list[URLPattern] = [
    path("", views.executions_index, name="executions_index"),
    path("settings/", views.executions_settings, name="executions_settings"),
    path("<int:execution_id>/", views.executions_detail, name="executions_detail"),
]
