"""Pages of the notifications app, mounted under /w/<slug>/notifications/."""

from __future__ import annotations

from django.urls import URLPattern, path

from parley.notifications import views

urlpatterns: list[URLPattern] = [
    path("", views.notification_list, name="notifications_list"),
    path("bell/", views.notification_bell, name="notifications_bell"),
    path("read-all/", views.notification_read_all, name="notifications_read_all"),
    path("<int:notification_id>/open/", views.notification_open, name="notifications_open"),
]
