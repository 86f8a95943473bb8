"""`crud_mixin`: a Reflex state that lists, creates, edits and deletes rows of a model.

Every handler except `cancel_edit` runs only for a signed-in user (anonymous users are
redirected to the login URL) and, with `owner_field`, only ever touches the user's own
rows: queries are filtered by the event's Django user on the server, so an id sent by
the browser (in an event payload, or a var set with `setvar`) can at worst name a row
that is not found. The owner of a new row is that user, never a value from the client.
Values are checked with Django's `ModelForm` for the form fields, then the row's
`full_clean()`; the errors land in `field_errors_var`, one message per field
(`"__all__"` for the rest), and as one text in `error_var`.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import inspect
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import reflex as rx
from asgiref.sync import sync_to_async
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.db import models

if TYPE_CHECKING:
    from django.db.models import ForeignObjectRel

from reflex_django.authz import django_login_required
from reflex_django.context import current_user
from reflex_django.mixins._build import caller_module, check_names, make_mixin, make_state

__all__ = ["ModelCRUDConfig", "_default_row_serializer", "crud_mixin", "default_row"]

NOT_EDITING = -1


@dataclass(frozen=True)
class ModelCRUDConfig:
    """What `crud_mixin` generates for `model`.

    The first thirteen fields, their order and their defaults are those of
    reflex-django 0.2.3 (which required `list_var`, `form_fields` and `error_var`);
    `field_errors_var` is new.
    """

    model: type[models.Model]
    list_var: str = "items"
    # Concrete, editable, non-relation fields edited through `form_<f>` / `edit_<f>`.
    form_fields: tuple[str, ...] = ()
    # A str var: the problems of the last action as one text ("" when none).
    error_var: str = "item_errors"
    # The relation to the user model that scopes every query; None: not scoped.
    owner_field: str | None = "user"
    ordering: tuple[str, ...] = ("-created_at",)
    # Must not be blank when creating (checked before `full_clean()`); empty: the
    # first of `form_fields`.
    required_for_create: tuple[str, ...] = ()
    # `(instance) -> dict` for the rows of `list_var`, or
    # `(instance, *, exclude_fields) -> dict`; default: `default_row`.
    row_serializer: Callable[..., dict[str, Any]] | None = None
    # A name starting with "_" makes it a plain method, not an event handler.
    refresh_method: str = "_refresh_rows"
    on_load_event: str = "on_load_items"
    add_event: str = "add_item"
    delete_event: str = "delete_item"
    # Keys dropped from each row (the owner field always is).
    exclude_from_row: frozenset[str] = frozenset()
    # A `dict[str, str]` var: one message per field, "__all__" for the rest. None:
    # `<error_var>_fields`.
    field_errors_var: str | None = None
    # The list (new): text search over these fields (`icontains`, any of them);
    # `<list_var>_search` holds the query, `set_<list_var>_search` sets it and reloads.
    search_fields: tuple[str, ...] = ()
    # Rows per page; None lists every row. `<list_var>_page` (1-based),
    # `<list_var>_total` (rows that match), `<list_var>_pages`; `set_<list_var>_page`.
    page_size: int | None = None
    # Fields the browser may order by (`<list_var>_order`: "title" or "-title", set
    # with `set_<list_var>_order`); anything else is refused. `ordering` stays the
    # default order.
    ordering_fields: tuple[str, ...] = ()
    # Django permissions each action needs on top of being signed in: keys "view",
    # "add", "change", "delete"; values a permission or a tuple of them (all needed).
    permissions: dict[str, Any] = field(default_factory=dict, hash=False)
    _fields: dict[str, models.Field[Any, Any]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in (
            "form_fields",
            "ordering",
            "required_for_create",
            "exclude_from_row",
            "search_fields",
            "ordering_fields",
        ):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            kind = frozenset if name == "exclude_from_row" else tuple
            object.__setattr__(self, name, kind(value))
        if self.field_errors_var is None:
            object.__setattr__(self, "field_errors_var", f"{self.error_var}_fields")
        model = self.model
        if not (isinstance(model, type) and issubclass(model, models.Model)):
            raise TypeError(f"ModelCRUDConfig.model must be a Django model class, not {model!r}")
        label = model._meta.label
        if not self.form_fields:
            raise ValueError(f"ModelCRUDConfig({label}): form_fields is empty")
        for name in self.form_fields:
            self._fields[name] = _form_field(model, name, self.owner_field)
        if self.owner_field is not None:
            _with_hint(
                functools.partial(_check_owner, model, self.owner_field),
                self.owner_field == "user",
                "owner_field defaults to 'user'; pass owner_field=None for rows that every signed-in user shares",
            )
        for name in self.required_for_create:
            if name not in self.form_fields:
                raise ValueError(f"ModelCRUDConfig({label}).required_for_create: {name!r} is not in form_fields")
        for name in self.ordering:
            _with_hint(
                functools.partial(_model_field, model, name.removeprefix("-").split("__")[0], "ordering"),
                self.ordering == ("-created_at",),
                "ordering defaults to ('-created_at',); pass ordering=() or your own",
            )
        for where in ("search_fields", "ordering_fields"):
            for name in getattr(self, where):
                _model_field(model, name.split("__")[0], where)
        if self.page_size is not None and (not isinstance(self.page_size, int) or self.page_size < 1):
            raise ValueError(f"ModelCRUDConfig({label}).page_size must be a positive number or None")
        unknown = set(self.permissions) - {"view", "add", "change", "delete"}
        if unknown:
            raise ValueError(
                f"ModelCRUDConfig({label}).permissions: unknown action(s) {sorted(unknown)}; "
                "use 'view', 'add', 'change', 'delete'"
            )
        names = {
            "list_var": self.list_var,
            "error_var": self.error_var,
            "field_errors_var": self.field_errors_var,
            "refresh_method": self.refresh_method,
            "on_load_event": self.on_load_event,
            "add_event": self.add_event,
            "delete_event": self.delete_event,
            "editing_id": "editing_id",
            "start_edit": "start_edit",
            "save_edit": "save_edit",
            "cancel_edit": "cancel_edit",
        }
        if self.search_fields:
            names["search_var"] = f"{self.list_var}_search"
            names["set_search"] = f"set_{self.list_var}_search"
        if self.page_size is not None:
            for suffix in ("page", "total", "pages"):
                names[f"{suffix}_var"] = f"{self.list_var}_{suffix}"
            names["set_page"] = f"set_{self.list_var}_page"
        if self.ordering_fields:
            names["order_var"] = f"{self.list_var}_order"
            names["set_order"] = f"set_{self.list_var}_order"
        for name in self.form_fields:
            for prefix in ("form_", "edit_", "set_form_", "set_edit_"):
                names[prefix + name] = prefix + name
        check_names(f"ModelCRUDConfig({label})", names)


def crud_mixin(
    cfg: ModelCRUDConfig,
    base: type[rx.State] = rx.State,
    state_module: str | None = None,
) -> type[rx.State]:
    """A state class `{Model}CRUDState`, subclass of `base` (any `rx.State`
    subclass), with:

    - `cfg.list_var`: the rows (`list[dict]`, each with `id`); `cfg.error_var`: the
      problems of the last action as one text (`""` when none), and
      `cfg.field_errors_var`: the same as `dict[str, str]`, one message per field;
      `editing_id` (-1 when not editing);
    - `form_<f>` / `edit_<f>` (str) for each of `cfg.form_fields`, with setters
      `set_form_<f>` / `set_edit_<f>`;
    - `cfg.refresh_method` (reload), `cfg.on_load_event` (for `on_load`),
      `cfg.add_event` (create from the `form_` vars), `cfg.delete_event(item_id)`,
      `start_edit(item_id)`, `save_edit()`, `cancel_edit()`;
    - with `cfg.search_fields`: `<list_var>_search` and `set_<list_var>_search(text)`;
      with `cfg.page_size`: `<list_var>_page`, `_total`, `_pages` and
      `set_<list_var>_page(n)`; with `cfg.ordering_fields`: `<list_var>_order` and
      `set_<list_var>_order("-field")`. `cfg.permissions` adds Django permissions per
      action ("view", "add", "change", "delete"), checked on the server.

    The class is set as an attribute of `state_module` (default: the caller's module)
    so Reflex can pickle its instances.
    """
    if not (isinstance(base, type) and issubclass(base, rx.State)):
        raise TypeError(f"crud_mixin(base=...) must be an rx.State subclass, not {base!r}")
    module = state_module or caller_module(inspect.currentframe().f_back)  # type: ignore[union-attr]
    name = f"{cfg.model.__name__}CRUDState"
    return make_state(
        name,
        (_crud_members(cfg, name), base),
        module,
        f"List, create, edit and delete {cfg.model._meta.label} rows (generated).",
    )


def _crud_members(cfg: ModelCRUDConfig, name: str) -> type:
    model, form_fields = cfg.model, cfg.form_fields
    text_var, dict_var = cfg.error_var, str(cfg.field_errors_var)
    required = cfg.required_for_create or form_fields[:1]
    hidden = cfg.exclude_from_row | ({cfg.owner_field} if cfg.owner_field else set())
    serialize = _serializer(cfg.row_serializer or default_row, hidden)
    gate = django_login_required()

    def scoped() -> models.QuerySet[Any]:
        """The rows the event's user may see (none for anonymous users)."""
        user = current_user()
        manager = model._default_manager
        if not user.is_authenticated:
            return manager.none()
        qs = manager.all()
        if cfg.owner_field is not None:
            qs = qs.filter(**{cfg.owner_field: user})
        return qs.order_by(*cfg.ordering) if cfg.ordering else qs

    def report(self: Any, problems: dict[str, str]) -> None:
        setattr(self, dict_var, problems)
        setattr(self, text_var, _as_sentence(model, problems))

    search_var, page_var = f"{cfg.list_var}_search", f"{cfg.list_var}_page"
    total_var, pages_var, order_var = f"{cfg.list_var}_total", f"{cfg.list_var}_pages", f"{cfg.list_var}_order"

    def listed(self: Any) -> models.QuerySet[Any]:
        """The user's rows as the list shows them: searched and ordered. The search
        text and the order come from the browser: only the configured fields are
        searched, and an order is used only when it is one of `ordering_fields`."""
        qs = scoped()
        query = str(getattr(self, search_var, "") or "").strip() if cfg.search_fields else ""
        if query:
            matches = models.Q()
            for name in cfg.search_fields:
                matches |= models.Q(**{f"{name}__icontains": query})
            qs = qs.filter(matches)
        order = str(getattr(self, order_var, "") or "") if cfg.ordering_fields else ""
        if order and order.removeprefix("-") in cfg.ordering_fields:
            qs = qs.order_by(order, *(o for o in cfg.ordering if o.removeprefix("-") != order.removeprefix("-")))
        return qs

    async def reload(self: Any) -> None:
        if not await permitted("view"):
            setattr(self, cfg.list_var, [])
            return
        qs = listed(self)
        if cfg.page_size is not None:
            total = await qs.acount()
            pages = max(1, -(-total // cfg.page_size))
            page = min(max(_as_int(getattr(self, page_var, 1), 1), 1), pages)
            setattr(self, total_var, total)
            setattr(self, pages_var, pages)
            setattr(self, page_var, page)
            qs = qs[(page - 1) * cfg.page_size : page * cfg.page_size]
        rows = []
        async for obj in qs:
            row = serialize(obj)
            for key in hidden:
                row.pop(key, None)
            rows.append(row)
        setattr(self, cfg.list_var, rows)

    async def permitted(action: str) -> bool:
        """Whether the event's user may `action` ("view", "add", "change", "delete")."""
        needed = cfg.permissions.get(action)
        if not needed:
            return True
        perms = (needed,) if isinstance(needed, str) else tuple(needed)
        user: Any = current_user()  # `ahas_perms` comes with Django's PermissionsMixin
        return bool(user.is_active and await user.ahas_perms(perms))

    async def set_search(self: Any, value: str) -> None:
        setattr(self, search_var, str(value or "")[:200])
        if cfg.page_size is not None:
            setattr(self, page_var, 1)
        await reload(self)

    async def set_page(self: Any, value: Any) -> None:
        setattr(self, page_var, _as_int(value, 1))
        await reload(self)

    async def set_order(self: Any, value: str) -> None:
        value = str(value or "")
        if value and value.removeprefix("-") not in cfg.ordering_fields:
            report(self, {NON_FIELD_ERRORS: _message("crud_bad_order")})
            return
        setattr(self, order_var, value)
        await reload(self)

    async def on_load(self: Any) -> None:
        report(self, {})
        await reload(self)

    async def add(self: Any) -> None:
        if not await permitted("add"):
            report(self, {NON_FIELD_ERRORS: _message("permission_denied")})
            return
        values = {f: str(getattr(self, "form_" + f) or "") for f in form_fields}
        problems = {f: _message("crud_required") for f in required if not values[f].strip()}
        if not problems:
            owner = {cfg.owner_field: current_user()} if cfg.owner_field else {}
            problems = await sync_to_async(_save)(model(**owner), cfg, values)
        report(self, problems)
        if not problems:
            for f in form_fields:
                setattr(self, "form_" + f, "")
            await reload(self)

    async def delete(self: Any, item_id: Any) -> None:
        if not await permitted("delete"):
            report(self, {NON_FIELD_ERRORS: _message("permission_denied")})
            return
        pk = _pk(model, item_id)
        deleted = 0
        if pk is not None:
            deleted, _ = await scoped().filter(pk=pk).adelete()
        if not deleted:
            report(self, {NON_FIELD_ERRORS: _message("crud_not_found")})
            return
        report(self, {})
        if pk == _pk(model, self.editing_id):
            clear_edit(self)
        await reload(self)

    async def start_edit(self: Any, item_id: Any) -> None:
        if not await permitted("change"):
            report(self, {NON_FIELD_ERRORS: _message("permission_denied")})
            return
        pk = _pk(model, item_id)
        obj = await scoped().filter(pk=pk).afirst() if pk is not None else None
        if obj is None:
            clear_edit(self)
            report(self, {NON_FIELD_ERRORS: _message("crud_not_found")})
            return
        self.editing_id = _json_pk(obj.pk)
        for f in form_fields:
            setattr(self, "edit_" + f, _as_text(cfg._fields[f].value_from_object(obj)))
        report(self, {})

    async def save_edit(self: Any) -> None:
        if not await permitted("change"):
            report(self, {NON_FIELD_ERRORS: _message("permission_denied")})
            return
        # `editing_id` is a var the browser can set: look the row up in the user's
        # rows again.
        pk = _pk(model, self.editing_id)
        obj = await scoped().filter(pk=pk).afirst() if pk is not None else None
        if obj is None:
            clear_edit(self)
            report(self, {NON_FIELD_ERRORS: _message("crud_not_found")})
            return
        values = {f: str(getattr(self, "edit_" + f) or "") for f in form_fields}
        problems = {f: _message("crud_required") for f in required if not values[f].strip()}
        if not problems:
            problems = await sync_to_async(_save)(obj, cfg, values)
        report(self, problems)
        if not problems:
            clear_edit(self)
            await reload(self)

    def cancel_edit(self: Any) -> None:
        clear_edit(self)
        report(self, {})

    def clear_edit(self: Any) -> None:
        self.editing_id = NOT_EDITING
        for f in form_fields:
            setattr(self, "edit_" + f, "")

    def setter(var: str) -> Callable[..., None]:
        def set_value(self: Any, value: str) -> None:
            setattr(self, var, value)

        return set_value

    refresh: Callable[..., Any] = reload if cfg.refresh_method.startswith("_") else gate(reload)
    members: dict[str, Any] = {
        cfg.refresh_method: refresh,
        cfg.on_load_event: gate(on_load),
        cfg.add_event: gate(add),
        cfg.delete_event: gate(delete),
        "start_edit": gate(start_edit),
        "save_edit": gate(save_edit),
        "cancel_edit": cancel_edit,
    }
    fields_: dict[str, tuple[Any, Any]] = {
        cfg.list_var: (list[dict[str, Any]], []),
        text_var: (str, ""),
        dict_var: (dict[str, str], {}),
        "editing_id": (int | str, NOT_EDITING),
    }
    if cfg.search_fields:
        fields_[search_var] = (str, "")
        members[f"set_{search_var}"] = gate(set_search)
    if cfg.page_size is not None:
        fields_.update({page_var: (int, 1), total_var: (int, 0), pages_var: (int, 1)})
        members[f"set_{page_var}"] = gate(set_page)
    if cfg.ordering_fields:
        fields_[order_var] = (str, "")
        members[f"set_{order_var}"] = gate(set_order)
    for f in form_fields:
        for prefix in ("form_", "edit_"):
            fields_[prefix + f] = (str, "")
            members["set_" + prefix + f] = gate(setter(prefix + f))
    return make_mixin(f"{name}Members", fields_, members)


def _serializer(fn: Callable[..., dict[str, Any]], hidden: frozenset[str]) -> Callable[[Any], dict[str, Any]]:
    """`fn` as a one-argument callable: serializers written for reflex-django 0.2.3
    take the keys to leave out as `exclude_fields=`."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # a builtin or C callable: call it plainly
        return fn
    if any(p.name == "exclude_fields" or p.kind is p.VAR_KEYWORD for p in params):
        return lambda obj: fn(obj, exclude_fields=hidden)
    return fn


def _as_sentence(model: type[models.Model], problems: dict[str, str]) -> str:
    """The messages of `problems` as one text, each prefixed by its field's name."""
    parts = []
    for key, text in problems.items():
        if key == NON_FIELD_ERRORS:
            parts.append(text)
            continue
        try:
            label = str(getattr(model._meta.get_field(key), "verbose_name", key))
        except FieldDoesNotExist:
            label = key
        parts.append(f"{label[:1].upper()}{label[1:]}: {text}")
    return " ".join(parts)


def default_row(obj: models.Model) -> dict[str, Any]:
    """`{"id": pk, <field>: value, ...}` for every concrete field, JSON-safe: dates and
    times in ISO 8601, decimals and UUIDs as strings, relations as the related pk."""
    row: dict[str, Any] = {"id": _json_pk(obj.pk)}
    for f in obj._meta.concrete_fields:
        row[f.name] = _json_value(f.value_from_object(obj))
    return row


def _default_row_serializer(instance: models.Model, *, exclude_fields: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The rows of reflex-django 0.2.3, for `row_serializer=`: the model's field
    values (`model_to_dict`, plus the non-editable concrete fields) and `id`, with
    datetimes as `YYYY-MM-DD HH:MM` text, leaving out `exclude_fields`."""
    from django.forms.models import model_to_dict

    row: dict[str, Any] = model_to_dict(instance, exclude=sorted(exclude_fields))
    row["id"] = instance.pk
    for f in instance._meta.concrete_fields:
        if f.name not in exclude_fields and f.name not in row:
            row[f.name] = f.value_from_object(instance)
    for key, value in row.items():
        if isinstance(value, datetime.datetime):
            row[key] = value.strftime("%Y-%m-%d %H:%M")
    return row


def _save(obj: models.Model, cfg: ModelCRUDConfig, values: dict[str, str]) -> dict[str, str]:
    """Check the form's text values with Django's `ModelForm` for the form fields (its
    messages, translated), then the whole row with `full_clean()` (constraints that
    involve the owner, which is no form field), and save; the errors by field."""
    data = {}
    for name, raw in values.items():
        model_field = cfg._fields[name]
        if raw == "" and not model_field.empty_strings_allowed and model_field.has_default():
            # Like a blank input of reflex-django 0.2.3: the field's default.
            data[name] = str(model_field.get_default())
        else:
            data[name] = raw
    form = _form_class(cfg.model, cfg.form_fields)(data=data, instance=obj)
    if not form.is_valid():
        return {key: " ".join(str(m) for m in messages) for key, messages in form.errors.items()}
    try:
        obj.full_clean()
    except ValidationError as exc:
        return _errors(exc)
    obj.save()
    return {}


@functools.cache
def _form_class(model: type[models.Model], fields: tuple[str, ...]) -> Any:
    """Django's `ModelForm` for `model` and its form `fields` (made once)."""
    from django.forms import modelform_factory

    return modelform_factory(model, fields=list(fields))


def _errors(exc: ValidationError) -> dict[str, str]:
    if hasattr(exc, "error_dict"):
        return {key: " ".join(messages) for key, messages in exc.message_dict.items()}
    return {NON_FIELD_ERRORS: " ".join(exc.messages)}


def _as_int(raw: Any, default: int) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return default


def _pk(model: type[models.Model], raw: Any) -> Any:
    """The primary key `raw` names, or None when it cannot be one."""
    if raw is None or raw == NOT_EDITING or raw == "" or isinstance(raw, (bool, list, dict)):
        return None
    try:
        return model._meta.pk.to_python(raw)
    except (ValidationError, TypeError, ValueError):
        return None


def _json_pk(pk: Any) -> int | str:
    return pk if isinstance(pk, int) else str(pk)


def _json_value(value: Any) -> Any:
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, models.Model):
        return _json_pk(value.pk)
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    json_value = _json_value(value)
    return json_value if isinstance(json_value, str) else str(json_value)


def _message(key: str) -> str:
    from reflex_django.auth.conf import message

    return message(key)


def _with_hint(check: Callable[[], Any], defaulted: bool, hint: str) -> None:
    """Run `check`; when it fails for a value left at its default, say so."""
    try:
        check()
    except ValueError as exc:
        if not defaulted:
            raise
        raise ValueError(f"{exc} ({hint})") from None


def _model_field(model: type[models.Model], name: str, where: str) -> models.Field[Any, Any] | ForeignObjectRel:
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        raise ValueError(
            f"ModelCRUDConfig({model._meta.label}).{where}: {model.__name__} has no field {name!r}"
        ) from None


def _form_field(model: type[models.Model], name: str, owner_field: str | None) -> models.Field[Any, Any]:
    f = _model_field(model, name, "form_fields")
    label = model._meta.label
    problem = None
    if name == owner_field:
        problem = "is the owner_field (the owner is always the signed-in user)"
    elif getattr(f, "primary_key", False):
        problem = "is the primary key"
    elif f.is_relation:
        problem = "is a relation (a pk from the browser could name anyone's row)"
    elif not getattr(f, "concrete", False) or not getattr(f, "editable", False):
        problem = "is not an editable model field"
    if problem:
        raise ValueError(f"ModelCRUDConfig({label}).form_fields: {name!r} {problem}")
    # What is left is a model field: a reverse relation (ForeignObjectRel) is a relation.
    return cast("models.Field[Any, Any]", f)


def _check_owner(model: type[models.Model], name: str) -> None:
    from django.contrib.auth import get_user_model

    f = _model_field(model, name, "owner_field")
    if not (f.many_to_one or f.one_to_one) or f.related_model is not get_user_model():
        raise ValueError(
            f"ModelCRUDConfig({model._meta.label}).owner_field: {name!r} must be a "
            "ForeignKey or OneToOneField to the user model"
        )
