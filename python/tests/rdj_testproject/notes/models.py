from django.conf import settings
from django.contrib.auth.models import User
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


class StaffMember(User):
    """A proxy of the user model, as an admin for staff only would use: saves through
    it send signals with this class as sender. Its `from_db` keeps the loaded values
    (the pattern of Django's docs), so it must be built the way a query builds it."""

    class Meta:
        proxy = True
        app_label = "notes"

    @classmethod
    def from_db(cls, db, field_names, values):  # type: ignore[no-untyped-def]
        instance = super().from_db(db, field_names, values)
        instance._loaded_values = dict(zip(field_names, values, strict=True))
        return instance
