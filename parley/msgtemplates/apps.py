from django.apps import AppConfig


class MsgtemplatesConfig(AppConfig):
    name = "parley.msgtemplates"
    label = "msgtemplates"
