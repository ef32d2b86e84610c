"""The personal API token: knox's hashed token (only its SHA-512 digest and the first
characters are stored), with the name its owner gave it and what it may do."""

from __future__ import annotations

from django.db import models
from knox.models import AbstractAuthToken


class TokenScope(models.TextChoices):
    READ = "read", "Read only"
    READ_WRITE = "read_write", "Read and write"


class ApiToken(AbstractAuthToken):
    """knox's token model swapped in (`KNOX_TOKEN_MODEL`): one row per token."""

    name = models.CharField(max_length=60)
    scope = models.CharField(max_length=12, choices=TokenScope.choices, default=TokenScope.READ)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.CheckConstraint(condition=models.Q(expiry__isnull=False),
                                   name="api_token_always_expires"),
        ]

    def __str__(self) -> str:
        return f"API token “{self.name}” of {self.user_id}"

    @property
    def read_only(self) -> bool:
        return self.scope != TokenScope.READ_WRITE
