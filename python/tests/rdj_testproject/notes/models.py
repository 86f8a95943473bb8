from django.conf import settings
from django.db import models


class Note(models.Model):
    """The CRUD mixin tests' model: owned, validated, ordered."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    title = models.CharField(max_length=20)
    content = models.TextField(blank=True)
    stars = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "notes"
        constraints = [
            models.UniqueConstraint(fields=["user", "title"], name="one_title_per_user"),
        ]


class Bookmark(models.Model):
    """Not owned: every signed-in user sees every row."""

    url = models.URLField()
    note = models.ForeignKey(Note, null=True, blank=True, on_delete=models.SET_NULL)
