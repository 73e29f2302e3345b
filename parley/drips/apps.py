from django.apps import AppConfig


class DripsConfig(AppConfig):
    name = "parley.drips"
    label = "drips"

    def ready(self) -> None:
        from parley.crm import merge_hooks, panels
        from parley.drips import contributions, hooks, triggers
        from parley.drips.models import Enrolment
        from parley.outbox import hooks as outbox_hooks

        outbox_hooks.register("drip", precheck=hooks.precheck, on_finished=hooks.on_finished)
        triggers.subscribe()
        panels.register(contributions.CONTACT_PANEL)
        merge_hooks.register(Enrolment, contributions.merge_enrolments)
