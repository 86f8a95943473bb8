"""An authentication backend of the kind projects write: `ModelBackend` with its own
rule for who may sign in (which the bridge cannot know depends on the user row only)."""

from typing import Any

from django.contrib.auth.backends import ModelBackend


class VettedBackend(ModelBackend):
    def user_can_authenticate(self, user: Any) -> bool:
        return super().user_can_authenticate(user) and not str(user.email).endswith("@blocked.example")


class ThreadRecordingBackend(ModelBackend):
    """Notes the thread each password check runs on."""

    threads: list[str] = []

    def authenticate(self, request: Any, username: Any = None, password: Any = None, **kwargs: Any) -> Any:
        import threading

        self.threads.append(threading.current_thread().name)
        return super().authenticate(request, username=username, password=password, **kwargs)
