"""Pages of assignment and hours, mounted under /w/<slug>/automation/routing/."""

from __future__ import annotations

from django.urls import URLPattern, path

from parley.routing import views

urlpatterns: list[URLPattern] = [
    path("", views.routing_index, name="routing_index"),
    path("availability/", views.routing_availability, name="routing_availability"),
    path("channels/<int:channel_id>/", views.routing_channel, name="routing_channel"),
    path("teams/new/", views.routing_team_new, name="routing_team_new"),
    path("teams/<int:team_id>/", views.routing_team_edit, name="routing_team_edit"),
    path("teams/<int:team_id>/delete/", views.routing_team_delete, name="routing_team_delete"),
    path("hours/", views.routing_hours, name="routing_hours"),
    path("holidays/new/", views.routing_holiday_new, name="routing_holiday_new"),
    path(
        "holidays/<int:holiday_id>/delete/",
        views.routing_holiday_delete,
        name="routing_holiday_delete",
    ),
    path(
        "conversations/<int:conversation_id>/team/",
        views.routing_conversation_team,
        name="routing_conversation_team",
    ),
]
