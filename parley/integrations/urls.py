"""Pages of outbound webhooks, mounted under /w/<slug>/automation/webhooks/."""

from __future__ import annotations

from django.urls import URLPattern, path

from parley.integrations import views

urlpatterns: list[URLPattern] = [
    path("", views.webhooks_index, name="webhooks_index"),
    path("new/", views.webhooks_new, name="webhooks_new"),
    path("<int:endpoint_id>/", views.webhooks_endpoint, name="webhooks_endpoint"),
    path("<int:endpoint_id>/edit/", views.webhooks_edit, name="webhooks_edit"),
    path("<int:endpoint_id>/toggle/", views.webhooks_toggle, name="webhooks_toggle"),
    path("<int:endpoint_id>/rotate/", views.webhooks_rotate, name="webhooks_rotate"),
    path("<int:endpoint_id>/test/", views.webhooks_test, name="webhooks_test"),
    path("<int:endpoint_id>/delete/", views.webhooks_delete, name="webhooks_delete"),
    path(
        "<int:endpoint_id>/deliveries/<int:delivery_id>/retry/",
        views.webhooks_retry,
        name="webhooks_retry",
    ),
]
