from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "parley.crm"
    label = "crm"
