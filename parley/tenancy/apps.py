from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "parley.tenancy"
    label = "tenancy"
