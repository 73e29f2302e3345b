from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "parley.inbox"
    label = "inbox"
