from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "parley.notes"
    label = "notes"
