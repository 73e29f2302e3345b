from django.apps import AppConfig


class WhatsappConfig(AppConfig):
    name = "parley.whatsapp"
    label = "whatsapp"
