from django.apps import AppConfig


class BroadcastsConfig(AppConfig):
    name = "parley.broadcasts"
    label = "broadcasts"

    def ready(self) -> None:
        from parley.broadcasts.actions import SOURCE, on_items_finished
        from parley.outbox.hooks import register

        register(SOURCE, on_finished=on_items_finished)
