from django.apps import AppConfig


class ScheduledConfig(AppConfig):
    name = "parley.scheduled"
    label = "scheduled"

    def ready(self) -> None:
        from parley.crm import panels, timeline
        from parley.scheduled import contributions

        panels.register(contributions.CONTACT_PANEL)
        timeline.register("scheduled", contributions.timeline_source)
