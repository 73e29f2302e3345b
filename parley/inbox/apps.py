from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "parley.inbox"
    label = "inbox"

    def ready(self) -> None:
        from parley.crm import merge_hooks, timeline
        from parley.inbox import contact_hooks
        from parley.inbox.models import Conversation

        timeline.register("messages", contact_hooks.message_timeline)
        merge_hooks.register(Conversation, contact_hooks.merge_conversations)
