from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "parley.segments"
    label = "segments"
