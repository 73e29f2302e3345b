from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "parley.outbox"
    label = "outbox"

    def ready(self) -> None:
        from parley.crm import merge_hooks
        from parley.outbox.contact_hooks import merge_tier_contacts
        from parley.outbox.models import TierContact

        merge_hooks.register(TierContact, merge_tier_contacts)
