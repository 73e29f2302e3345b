"""Pages of the deals app, mounted under /w/<slug>/deals/."""

from __future__ import annotations

from django.urls import URLPattern, path

from parley.deals import views

urlpatterns: list[URLPattern] = [
    path("", views.deals_board, name="deals_board"),
    path("new/", views.deals_new, name="deals_new"),
    path("dashboard/", views.deals_dashboard, name="deals_dashboard"),
    path("settings/", views.deals_settings, name="deals_settings"),
    path("<int:deal_id>/", views.deals_detail, name="deals_detail"),
    path("<int:deal_id>/edit/", views.deals_edit, name="deals_edit"),
    path("<int:deal_id>/move/", views.deals_move, name="deals_move"),
]
