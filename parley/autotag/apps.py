from django.apps import AppConfig


class AutotagConfig(AppConfig):
    name = "parley.autotag"
    label = "autotag"

    def ready(self) -> None:
        from parley.autotag import hooks

        hooks.subscribe()
