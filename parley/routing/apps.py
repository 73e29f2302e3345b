from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "parley.routing"
    label = "routing"

    def ready(self) -> None:
        from parley.routing import hooks

        hooks.subscribe()
