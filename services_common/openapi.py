"""OpenAPI 3.1 documents built from a service's route table and its pydantic request models,
so that a service's document cannot drift from what it serves."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import BaseModel

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "stable machine code, e.g. slot_taken"},
        "message": {"type": "string", "description": "what went wrong, for a person"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No content",
    400: "Malformed request",
    401: "Missing or invalid token",
    403: "Not allowed",
    404: "Not found (or not yours)",
    405: "Method not allowed",
    409: "Conflict",
    422: "Invalid input",
    429: "Over a limit",
    502: "An upstream service failed",
    503: "Not ready",
    504: "An upstream service timed out",
}


@dataclass(frozen=True)
class Route:
    """One endpoint: the router and the OpenAPI document are both built from a tuple of these."""

    method: str
    path: str
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    summary: str
    body: type[BaseModel] | None = None
    ok: int = 200
    errors: tuple[int, ...] = (401, 404)
    query: tuple[tuple[str, str], ...] = ()
    tag: str = "api"
    headers: tuple[str, ...] = ()  # required request headers


def _openapi_path(path: str) -> tuple[str, list[dict[str, Any]]]:
    """aiohttp's `{name:a|b}` placeholders as OpenAPI's `{name}`, with typed path parameters."""
    parameters = []
    for name, pattern in re.findall(r"{(\w+)(?::([^}]+))?}", path):
        schema: dict[str, Any] = {"type": "string"}
        if pattern and re.fullmatch(r"[\w-]+(\|[\w-]+)*", pattern):
            schema["enum"] = pattern.split("|")
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return re.sub(r"{(\w+):[^}]+}", r"{\1}", path), parameters


def _add_model(components: dict[str, Any], model: type[BaseModel]) -> None:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema


def openapi_document(
    routes: Iterable[Route],
    title: str,
    description: str,
    models: Iterable[type[BaseModel]] = (),
    components: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The document for `routes`; `models` are bodies a route takes without naming them
    (documented by name in `description`), `components` further schemas, e.g. the Error's
    extra fields."""
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA, **(components or {})}
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        path, path_parameters = _openapi_path(route.path)
        operation: dict[str, Any] = {
            "summary": route.summary,
            "tags": [route.tag],
            "operationId": route.handler.__name__,
            "parameters": path_parameters
            + [
                {
                    "name": n,
                    "in": "query",
                    "required": False,
                    "description": d,
                    "schema": {"type": "string"},
                }
                for n, d in route.query
            ]
            + [
                {
                    "name": h,
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string", "maxLength": 200},
                }
                for h in route.headers
            ],
            "responses": {str(route.ok): {"description": STATUS_TEXT.get(route.ok, "OK")}},
        }
        if route.tag != "health" and route.path != "/openapi.json":
            operation["security"] = [{"bearer": []}]
        if route.body is not None:
            _add_model(schemas, route.body)
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{route.body.__name__}"}
                    }
                },
            }
        for status in route.errors:
            operation["responses"][str(status)] = {
                "description": STATUS_TEXT.get(status, "Error"),
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        paths.setdefault(path, {})[route.method.lower()] = operation
    for model in models:
        _add_model(schemas, model)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1.0.0", "description": description},
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "paths": paths,
    }
