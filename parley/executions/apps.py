from django.apps import AppConfig


class ExecutionsConfig(AppConfig):
    name = "parley.executions"
    label = "executions"
