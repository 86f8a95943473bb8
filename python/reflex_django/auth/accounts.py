"""Registration and password reset, in plain (sync) Django: the rules behind the canned
pages, usable from your own views and handlers too (`sync_to_async` from async code).

Every function returns user-facing messages from `REFLEX_DJANGO_AUTH["MESSAGES"]`
rather than raising, so the pages can show them next to the form.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from reflex_django.auth.conf import auth_settings, message, site_origin
from reflex_django.auth.routes import password_reset_confirm_path

__all__ = [
    "check_reset_link",
    "register_user",
    "reset_password",
    "send_password_reset",
    "wait_for_outgoing_mail",
]

logger = logging.getLogger(__name__)


def register_user(
    username: str,
    email: str,
    password1: str,
    password2: str,
    *,
    email_required: bool | None = None,
    username_min_length: int | None = None,
    password_min_length: int | None = None,
) -> tuple[Any, list[str]]:
    """Create an active user of `get_user_model()`; `(user, [])` or `(None, errors)`.

    `username` goes into the model's `USERNAME_FIELD`. Checks: required values
    (`EMAIL_REQUIRED`), `USERNAME_MIN_LENGTH`, email syntax, matching passwords,
    `PASSWORD_MIN_LENGTH`, the project's `AUTH_PASSWORD_VALIDATORS`, a
    case-insensitive duplicate check, the model's own validation (`full_clean()`),
    and a concurrent sign-up of the same name (the database's unique constraint) —
    each as a message, not an exception. The keyword arguments replace the
    `REFLEX_DJANGO_AUTH` values of the same names (None: the setting).
    """
    settings = auth_settings()
    if email_required is None:
        email_required = settings["EMAIL_REQUIRED"]
    if username_min_length is None:
        username_min_length = settings["USERNAME_MIN_LENGTH"]
    users = get_user_model()
    # Every user model has one; django-stubs declare it on AbstractUser only.
    username_field = cast(str, users.USERNAME_FIELD)
    email_field = users.get_email_field_name()
    username = str(username or "").strip()
    email = str(email or "").strip()
    if username_field == email_field:
        email = username
    errors: list[str] = []
    if not username:
        errors.append(message("username_required"))
    elif len(username) < username_min_length:
        errors.append(message("username_too_short", min_length=username_min_length))
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors.append(message("email_invalid"))
    elif email_required:
        errors.append(message("email_required"))
    errors += _password_problems(password1, password2, None, password_min_length)
    if errors:
        return None, errors

    username = users.normalize_username(username)
    if users._default_manager.filter(**{f"{username_field}__iexact": username}).exists():
        return None, [message("username_taken")]
    # Django's own form: the username field's validators, the passwords' match and
    # AUTH_PASSWORD_VALIDATORS (against the new user), its messages, translated.
    # The new user carries the email from the start: the similarity validator sees it.
    instance = users()
    if email and email_field != username_field and _has_field(users, email_field):
        setattr(instance, email_field, BaseUserManager.normalize_email(email))
    data = {username_field: username, "password1": password1, "password2": password2}
    form = _sign_up_form(users)(data, instance=instance)
    if not form.is_valid():
        return None, _form_errors(form)
    user = form.save(commit=False)
    try:
        user.full_clean()
    except ValidationError as exc:
        if (
            username_field in getattr(exc, "error_dict", {})
            and users._default_manager.filter(**{username_field: username}).exists()
        ):
            return None, [message("username_taken")]
        return None, list(exc.messages)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        # Someone registered the same name between the check and the insert.
        return None, [message("username_taken")]
    return user, []


def send_password_reset(email: str, *, confirm_url: str | None = None, client_address: str | None = None) -> list[str]:
    """Email a reset link to each active user with a usable password and this address
    (Django's `PasswordResetForm.get_users`).

    The answer tells nothing about the address: `[]` whether or not any account uses
    it, in the same time (the mail goes out on a thread of its own, so a slow mail
    server shows in no timing), and also when the mail server fails (logged for the
    operator) or when the address or the client (`client_address`) asked too often
    (`RESET_ATTEMPTS` per address, `RESET_ATTEMPTS_PER_CLIENT` per client, in
    `RESET_WINDOW` seconds: no mail then, so nobody can flood an inbox). Errors only
    for a malformed address or a site that cannot send (no `SITE_ORIGIN`).
    `confirm_url`: the pattern of the link's path (default
    `PASSWORD_RESET_CONFIRM_URL`), with `[uid]` and `[key]` (or `[token]`)."""
    origin = site_origin()
    if origin is None:
        logger.error(
            "reflex-django: password reset needs REFLEX_DJANGO_AUTH['SITE_ORIGIN'] "
            "(e.g. 'https://example.com') to build its links"
        )
        return [message("reset_unavailable")]
    email = str(email or "").strip()
    if not email:
        return [message("email_required")]
    form = PasswordResetForm({"email": email})  # Django's own: its email field's checks
    if not form.is_valid():
        return _form_errors(form)
    if not _reset_allowed(email, client_address):
        logger.warning("reflex-django: password reset asked too often for an address or by a client; no mail sent")
        return []
    users = get_user_model()
    email_field = users.get_email_field_name()
    site = origin.split("://", 1)[1]
    outgoing = []
    for user in PasswordResetForm().get_users(email):
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        key = default_token_generator.make_token(user)
        link = origin + password_reset_confirm_path(uid, key, pattern=confirm_url)
        fields = {"username": user.get_username(), "link": link, "site": site}
        outgoing.append(
            (
                message("reset_email_subject", **fields),
                message("reset_email_body", **fields),
                getattr(user, email_field),
            )
        )
    if outgoing:
        future = _MAILING.submit(_send_all, outgoing)
        with _pending_lock:
            _pending.append(future)
        future.add_done_callback(_forget)
    return []


def wait_for_outgoing_mail(timeout: float = 30) -> None:
    """Returns once the reset mails handed to the mailing thread so far are sent (or
    failed, which is logged). For tests, and for a clean shutdown."""
    with _pending_lock:
        pending = list(_pending)
        _pending.clear()
    wait(pending, timeout=timeout)


# One thread sends the reset mails, off every request's path.
_MAILING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reflex-django-mail")
_pending: list[Future[None]] = []
_pending_lock = threading.Lock()


def _forget(future: Future[None]) -> None:
    with _pending_lock:
        if future in _pending:
            _pending.remove(future)


def _send_all(outgoing: list[tuple[str, str, str]]) -> None:
    for subject, body, to in outgoing:
        try:
            send_mail(subject, body, None, [to], fail_silently=False)
        except Exception:
            logger.exception("reflex-django: could not send a password reset email")


def _reset_allowed(email: str, client_address: str | None) -> bool:
    """Counts this reset for the address and the client; False when either asked too
    often within `RESET_WINDOW`."""
    from reflex_django.auth.throttle import within_limit

    conf = auth_settings()
    window = int(conf["RESET_WINDOW"])
    address = hashlib.sha256(email.casefold().encode()).hexdigest()[:32]
    allowed = within_limit(f"reset:addr:{address}", int(conf["RESET_ATTEMPTS"]), window)
    if client_address:
        allowed &= within_limit(f"reset:client:{client_address}", int(conf["RESET_ATTEMPTS_PER_CLIENT"]), window)
    return allowed


def check_reset_link(uid: str, key: str) -> Any:
    """The active user a reset link (`uid`, `key`) belongs to, or None when the link
    is malformed, expired or already used (the token covers the password hash and
    the last login, so it stops working once the password changes)."""
    users = get_user_model()
    try:
        pk = users._meta.pk.to_python(force_str(urlsafe_base64_decode(str(uid))))
        user = users._default_manager.get(pk=pk)
    except (TypeError, ValueError, OverflowError, ValidationError, users.DoesNotExist):
        return None
    if not getattr(user, "is_active", True):
        return None
    return user if default_token_generator.check_token(user, str(key)) else None


def reset_password(uid: str, key: str, password1: str, password2: str) -> list[str]:
    """Set a new password through a reset link; `[]` on success."""
    user = check_reset_link(uid, key)
    if user is None:
        return [message("reset_link_invalid")]
    errors = _password_problems(password1, password2, user)
    if errors:
        return errors
    # Django's own form: the passwords' match, AUTH_PASSWORD_VALIDATORS, its messages.
    form = SetPasswordForm(user, {"new_password1": password1, "new_password2": password2})
    if not form.is_valid():
        return _form_errors(form)
    form.save()
    return []


def _password_problems(password1: str, password2: str, user: Any, minimum: int | None = None) -> list[str]:
    """reflex-django's own rules, before Django's form: a password at all, and
    `PASSWORD_MIN_LENGTH` (the match and the validators are the form's)."""
    if not password1:
        return [message("password_required")]
    if minimum is None:
        minimum = auth_settings()["PASSWORD_MIN_LENGTH"]
    if len(password1) < minimum and password1 == password2:
        return [message("password_too_short", min_length=minimum)]
    return []


# The errors of Django's forms that a project may word itself through `MESSAGES`:
# (field, code) -> key. Without a text of the project's, Django's own is shown.
_MESSAGE_KEYS = {
    ("password2", "password_mismatch"): "password_mismatch",
    ("new_password2", "password_mismatch"): "password_mismatch",
    ("email", "invalid"): "email_invalid",
    ("email", "required"): "email_required",
}


def _form_errors(form: Any) -> list[str]:
    """The errors of a Django form as texts: Django's (translated), or the project's
    own for a key it set in `REFLEX_DJANGO_AUTH["MESSAGES"]`."""
    from reflex_django.auth.conf import DEFAULT_MESSAGES

    texts: list[str] = []
    for field_name, errors in form.errors.as_data().items():
        for error in errors:
            key = _MESSAGE_KEYS.get((field_name, error.code))
            if key is not None and message(key) != DEFAULT_MESSAGES[key]:
                texts.append(message(key))
            else:
                texts.extend(error.messages)
    return texts


def _sign_up_form(users: Any) -> Any:
    """Django's `BaseUserCreationForm` for the project's user model."""
    from django.contrib.auth.forms import BaseUserCreationForm

    class SignUpForm(BaseUserCreationForm[Any]):
        class Meta(BaseUserCreationForm.Meta):
            model = users
            fields = (users.USERNAME_FIELD,)

    return SignUpForm


def _has_field(model: Any, name: str) -> bool:
    try:
        model._meta.get_field(name)
    except Exception:
        return False
    return True
