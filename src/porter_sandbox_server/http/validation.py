"""Requests checked against ``openapi.yaml``: path and query parameters and JSON bodies.

The spec is read and every operation's checks are compiled once, when the
app is built; a request then costs a dictionary lookup and a schema walk.
Anything that does not match answers 400 with a message naming the field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError, best_match
from starlette.requests import HTTPConnection, Request

from .. import errors

SPEC_PATH = Path(__file__).parent.parent / "openapi.yaml"
#: The most a JSON request body may hold. Volume file uploads are raw bytes
#: and are not read through here, so they have no such limit.
MAX_JSON_BODY = 4 * 1024 * 1024


def _inline(node: Any, spec: Mapping[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """``node`` with every ``$ref`` replaced by what it points at."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref in seen:
                raise ValueError(f"openapi.yaml: {ref} refers to itself; request schemas must not")
            target: Any = spec
            for part in ref.removeprefix("#/").split("/"):
                target = target[part]
            return _inline(target, spec, (*seen, ref))
        return {key: _inline(value, spec, seen) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, spec, seen) for item in node]
    return node


def _field(path: Any) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


#: A message quoting more of the request than this says what failed instead of quoting it.
_MAX_QUOTE = 200


def _what_failed(error: ValidationError) -> str:
    """jsonschema's message, unless it quotes a large part of the request: then what the rule was."""
    if len(error.message) <= _MAX_QUOTE:
        return error.message
    rules = {
        "maxLength": f"is longer than {error.validator_value} characters",
        "maxProperties": f"has more than {error.validator_value} entries",
        "maxItems": f"has more than {error.validator_value} items",
        "pattern": "does not have the form it must have (see openapi.yaml)",
    }
    kind = type(error.instance).__name__
    return f"this {kind} {rules.get(str(error.validator), f'fails the rule {error.validator!r} of openapi.yaml')}"


def _message(error: ValidationError, where: str) -> str:
    field = _field(error.absolute_path)
    place = f"{where} field {field!r}" if field else where
    if error.validator == "pattern" and field.endswith("name"):
        shown = repr(error.instance) if len(str(error.instance)) <= 70 else "this name"
        return (
            f"{place}: {shown} is not a valid name; use 1 to 63 characters of a-z, 0-9 and '-', "
            "starting and ending with a letter or digit"
        )
    return f"{place}: {_what_failed(error)}"


@dataclass(frozen=True)
class _Param:
    name: str
    kind: str  # "string" | "integer" | "boolean" | "number" | "array"
    item_kind: str
    required: bool
    validator: Draft7Validator


def _kind(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if kind is None:
        for option in schema.get("anyOf", []) + schema.get("allOf", []):
            if "type" in option:
                return str(option["type"])
        return "string"
    return str(kind)


def _quoted(value: str) -> str:
    return repr(value) if len(value) <= 60 else f"a value of {len(value)} characters"


def _coerce(value: str, kind: str, name: str) -> Any:
    if kind == "integer":
        try:
            return int(value)
        except ValueError:
            raise errors.BadRequest(f"query parameter {name!r}: {_quoted(value)} is not an integer") from None
    if kind == "number":
        try:
            return float(value)
        except ValueError:
            raise errors.BadRequest(f"query parameter {name!r}: {_quoted(value)} is not a number") from None
    if kind == "boolean":
        lowered = value.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise errors.BadRequest(f"query parameter {name!r}: {_quoted(value)} is not a boolean; use true or false")
    return value


class Operation:
    """The checks for one operation (method and path) of the spec."""

    def __init__(self, operation_id: str, params: list[Mapping[str, Any]], body: Mapping[str, Any] | None) -> None:
        self.operation_id = operation_id
        self._query: list[_Param] = []
        self._path: list[_Param] = []
        for param in params:
            schema = param.get("schema", {})
            items = schema.get("items", {}) if isinstance(schema, dict) else {}
            compiled = _Param(
                name=param["name"],
                kind=_kind(schema),
                item_kind=_kind(items) if items else "string",
                required=bool(param.get("required")),
                validator=Draft7Validator(schema),
            )
            if param["in"] == "query":
                self._query.append(compiled)
            elif param["in"] == "path":
                self._path.append(compiled)
        self._body = Draft7Validator(body) if body is not None else None
        self._query_names = frozenset(param.name for param in self._query)

    def query(self, request: HTTPConnection) -> dict[str, Any]:
        """The declared query parameters, converted to their types and checked; absent ones are left out."""
        raw = request.query_params
        values: dict[str, Any] = {}
        for key in raw:
            if key not in self._query_names:
                known = ", ".join(sorted(self._query_names)) or "none"
                raise errors.BadRequest(f"unknown query parameter {_quoted(key)}; this operation takes: {known}")
        for param in self._query:
            if param.kind == "array":
                given = raw.getlist(param.name)
                if not given:
                    continue
                value: Any = [_coerce(item, param.item_kind, param.name) for item in given]
            else:
                text = raw.get(param.name)
                if text is None:
                    if param.required:
                        raise errors.BadRequest(f"query parameter {param.name!r} is required")
                    continue
                value = _coerce(text, param.kind, param.name)
            error = best_match(param.validator.iter_errors(value))
            if error is not None:
                raise errors.BadRequest(f"query parameter {param.name!r}: {_what_failed(error)}")
            values[param.name] = value
        return values

    def path(self, request: HTTPConnection) -> dict[str, Any]:
        """The path parameters, checked."""
        values: dict[str, Any] = {}
        for param in self._path:
            value = request.path_params.get(param.name, "")
            error = best_match(param.validator.iter_errors(value))
            if error is not None:
                raise errors.BadRequest(f"path parameter {param.name!r}: {_what_failed(error)}")
            values[param.name] = value
        return values

    async def json_body(self, request: Request, *, optional: bool = False) -> Any:
        """The JSON body, at most ``MAX_JSON_BODY`` bytes, checked against the operation's schema.

        With ``optional``, an empty body is an empty object.
        """
        raw = await read_limited(request, MAX_JSON_BODY)
        if not raw.strip():
            if optional:
                return {}
            raise errors.BadRequest("the request body is empty; send a JSON object")
        # A web page can post text/plain (a form, fetch in no-cors mode) without asking: refusing
        # any other type keeps such pages from driving the API (see ``origins``).
        kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if not _is_json(kind):
            raise errors.BadRequest(
                f"the request body is sent as {kind or 'no Content-Type'}; send it as JSON, with "
                "Content-Type: application/json"
            )
        try:
            body = json.loads(raw)
            # Lone surrogates (\ud800) parse but cannot be stored or passed on.
            json.dumps(body, ensure_ascii=False).encode()
        except (ValueError, RecursionError) as parse_error:
            raise errors.BadRequest(f"the request body is not valid JSON: {parse_error}") from None
        if self._body is not None:
            error = best_match(self._body.iter_errors(body))
            if error is not None:
                raise errors.BadRequest(_message(error, "request body"))
        return body


def _is_json(media_type: str) -> bool:
    """Whether ``media_type`` (lower case, without parameters) is JSON: ``application/json`` or ``application/*+json``."""
    kind, _, subtype = media_type.partition("/")
    return kind == "application" and (subtype == "json" or (subtype.endswith("+json") and len(subtype) > 5))


async def read_limited(request: Request, limit: int) -> bytes:
    """The request body; ``PayloadTooLarge`` once it passes ``limit`` bytes (before reading it all)."""
    declared = request.headers.get("content-length")
    too_large = errors.PayloadTooLarge(f"the request body is over {limit} bytes; send less")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared[-19:]) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


class ApiSpec:
    """Every operation of ``openapi.yaml``, compiled once."""

    def __init__(self, path: Path = SPEC_PATH) -> None:
        # libyaml's loader when present: the pure-Python one takes a tenth of a second on this spec.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        spec = yaml.load(path.read_text(), Loader=loader)
        self.operations: dict[str, Operation] = {}
        for route, item in spec["paths"].items():
            shared = item.get("parameters", [])
            for method, operation in item.items():
                if method == "parameters":
                    continue
                params = [_inline(param, spec) for param in [*shared, *operation.get("parameters", [])]]
                body = None
                content = operation.get("requestBody", {}).get("content", {})
                if "application/json" in content:
                    body = _inline(content["application/json"]["schema"], spec)
                self.operations[f"{method.upper()} {route}"] = Operation(operation["operationId"], params, body)

    def operation(self, method: str, route: str) -> Operation:
        """The checks for ``method`` on ``route`` (a path template of the spec, such as ``/v1/sandbox/{id}``)."""
        return self.operations[f"{method} {route}"]
