from django.apps import AppConfig


class TransferConfig(AppConfig):
    name = "parley.transfer"
    label = "transfer"
