"""resilient's ``resilient_endpoint`` decorator, typed.

The decorator only marks a handler with ``uri`` and ``request_type`` (what
``OfflineSoar._collect_routes`` reads) and returns it unchanged; resilient
ships no type information, so without this wrapper every decorated handler
would be untyped to mypy. Handlers take the requests_mock request (plus the
route's named groups as ``str`` keywords) and answer a ``requests.Response``.
``requests_mock.request.Request`` is a name of requests_mock's stubs only (at
run time the class is ``_RequestObjectProxy``): import it under TYPE_CHECKING.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from requests import Response
from resilient.resilient_rest_mock import resilient_endpoint

__all__ = ["Handler", "endpoint"]

Handler = TypeVar("Handler", bound=Callable[..., Response])


def endpoint(method: str, uri: str) -> Callable[[Handler], Handler]:
    """``resilient_endpoint(method, uri)``: same marks, same function back, with its types kept."""
    mark: Callable[[Handler], Handler] = resilient_endpoint(method, uri)
    return mark
