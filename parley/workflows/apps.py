from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "parley.workflows"
    label = "workflows"

    def ready(self) -> None:
        from parley.workflows import triggers

        triggers.subscribe()
