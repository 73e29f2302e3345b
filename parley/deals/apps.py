from django.apps import AppConfig


class DealsConfig(AppConfig):
    name = "parley.deals"
    label = "deals"

    def ready(self) -> None:
        from parley.crm import panels, timeline
        from parley.deals import contact_views

        panels.register(contact_views.PANEL)
        timeline.register("deals", contact_views.timeline_source)
