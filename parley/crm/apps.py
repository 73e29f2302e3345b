from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "parley.crm"
    label = "crm"

    def ready(self) -> None:
        from parley.crm import history, timeline

        timeline.register("contact", history.timeline_source)
