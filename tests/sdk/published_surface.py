"""Prints the public surface of Porter's published client as JSON: every name of its ``__all__``, and for each class
its members and their parameters.

Not a test module: ``test_sdk_published_surface.py`` runs it with the
interpreter of the venv that holds Porter's package (``python -I``, so our own
``porter_sandbox`` cannot shadow it) and compares what it prints with ours.

    {"version": "0.1.68", "names": {NAME: {"kind": "enum" | "error" | "model" | "class", ...}}}
"""

from __future__ import annotations

import enum
import importlib.metadata
import inspect
import json
from typing import Any

from pydantic import BaseModel

import porter_sandbox

SIMPLE = (str, int, float, bool, type(None))


def parameters(function: Any) -> list[dict[str, Any]] | None:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return None
    described = []
    for parameter in signature.parameters.values():
        if parameter.name == "self":
            continue
        default = parameter.default
        has_default = default is not parameter.empty
        described.append(
            {
                "name": parameter.name,
                "kind": parameter.kind.name,
                "has_default": has_default,
                "default": None if not has_default else default if isinstance(default, SIMPLE) else repr(default),
            }
        )
    return described


def member(value: Any) -> dict[str, Any]:
    if isinstance(value, property):
        return {"kind": "property"}
    if inspect.isfunction(value):
        return {
            "kind": "method",
            "parameters": parameters(value),
            "coroutine": inspect.iscoroutinefunction(value),
            "async_generator": inspect.isasyncgenfunction(value),
        }
    return {"kind": "attribute"}


def samples() -> dict[str, Any]:
    """An instance of each class whose public attributes are set in its ``__init__``, not declared on the class."""
    from porter_sandbox import AsyncPorter, Porter, VolumeFileEntry

    porter = Porter(base_url="http://127.0.0.1:9")
    async_porter = AsyncPorter(base_url="http://127.0.0.1:9")
    return {
        "Porter": porter,
        "AsyncPorter": async_porter,
        "Sandbox": porter_sandbox.Sandbox(id="sb-1", resource=porter.sandboxes.raw),
        "AsyncSandbox": porter_sandbox.AsyncSandbox(id="sb-1", resource=async_porter.sandboxes.raw),
        "VolumeFile": porter_sandbox.VolumeFile(VolumeFileEntry(name="a", type="file", size_bytes=1), "/"),
    }


def describe(name: str, value: Any, sample: Any) -> dict[str, Any]:
    if isinstance(value, type) and issubclass(value, enum.Enum):
        return {"kind": "enum", "members": {item.name: item.value for item in value}}
    if isinstance(value, type) and issubclass(value, BaseException):
        bases = [base.__name__ for base in value.__mro__[1:] if base.__name__ in porter_sandbox.__all__]
        return {"kind": "error", "bases": bases, "init": parameters(value.__init__)}
    if isinstance(value, type) and issubclass(value, BaseModel):
        return {
            "kind": "model",
            "fields": {field: {"required": info.is_required()} for field, info in value.model_fields.items()},
        }
    if isinstance(value, type):
        names = {item for item in dir(value) if not item.startswith("_")}
        names |= {
            item for item in ("__init__", "__enter__", "__exit__", "__aenter__", "__aexit__") if item in dir(value)
        }
        members = {item: member(inspect.getattr_static(value, item)) for item in sorted(names)}
        if sample is not None:
            for item, attribute in vars(sample).items():
                if not item.startswith("_"):
                    members[item] = {"kind": "attribute", "type": type(attribute).__name__}
        return {"kind": "class", "members": members}
    return {"kind": "value", "type": type(value).__name__}


def main() -> None:
    made = samples()
    names = {name: describe(name, getattr(porter_sandbox, name), made.get(name)) for name in porter_sandbox.__all__}
    version = importlib.metadata.version("porter-sandbox")
    print(json.dumps({"version": version, "file": porter_sandbox.__file__, "names": names}, sort_keys=True))


if __name__ == "__main__":
    main()
