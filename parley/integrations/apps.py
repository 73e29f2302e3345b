from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "parley.integrations"
    label = "integrations"
    verbose_name = "Outbound webhooks"

    def ready(self) -> None:
        from parley.integrations import subscriptions

        subscriptions.subscribe()
