from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "parley.notes"
    label = "notes"

    def ready(self) -> None:
        from parley.notes.panels import register

        register()
