from django.apps import AppConfig


class DealsConfig(AppConfig):
    name = "parley.deals"
    label = "deals"
