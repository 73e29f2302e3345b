from django.apps import AppConfig


class TodosConfig(AppConfig):
    name = "parley.todos"
    label = "todos"
