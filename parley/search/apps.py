from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "parley.search"
    label = "search"
