from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "parley.core"
    label = "core"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from parley.core import checks, rls  # noqa: F401  (registers system checks)
        from parley.core.jobs import defer_in_django_transaction

        defer_in_django_transaction()

        # Runs after every `migrate`, so a new tenant model gets its policy
        # without anybody having to remember to write one.
        post_migrate.connect(rls.apply_policies_after_migrate, sender=self)
