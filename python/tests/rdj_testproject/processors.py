"""Context processors used by the tests."""

from datetime import UTC, datetime


async def page(request):
    return {"page": request.path, "answer": 42}


def with_a_date(request):
    return {"when": datetime(2024, 1, 2, tzinfo=UTC), "ok": "yes"}


def broken(request):
    raise ValueError("this processor is broken")


def not_a_dict(request):
    return ["not", "a", "dict"]
