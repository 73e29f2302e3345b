from django.apps import AppConfig


class TodosConfig(AppConfig):
    name = "parley.todos"
    label = "todos"

    def ready(self) -> None:
        from parley.crm import panels, timeline
        from parley.deals import extensions
        from parley.todos import contributions

        panels.register(contributions.CONTACT_PANEL)
        timeline.register("tasks", contributions.timeline_source)
        extensions.register_panel(contributions.DEAL_PANEL)
        extensions.register_tile(contributions.DASHBOARD_TILE)
