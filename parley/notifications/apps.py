from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "parley.notifications"
    label = "notifications"
