"""An email backend behind a distant mail server: each send takes 0.3 s."""

import time

from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class EmailBackend(LocmemBackend):
    def send_messages(self, email_messages):
        time.sleep(0.3)
        return super().send_messages(email_messages)
