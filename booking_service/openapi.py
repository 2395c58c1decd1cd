"""The OpenAPI 3.1 document, built from the route table and the pydantic request models."""
from __future__ import annotations

import re
from typing import Any, Iterable

from booking_service import schemas

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "stable machine code, e.g. slot_taken"},
        "message": {"type": "string", "description": "what went wrong, for a person"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
        "alternatives": {"type": "array", "items": {"$ref": "#/components/schemas/Slot"}},
    },
}
SLOT_SCHEMA = {
    "type": "object",
    "properties": {
        "start": {"type": "string", "format": "date-time"},
        "end": {"type": "string", "format": "date-time"},
        "staff": {"type": ["object", "null"]},
        "resource": {"type": ["object", "null"]},
    },
}
STATUS_TEXT = {200: "OK", 201: "Created", 204: "No content", 400: "Malformed request", 401: "Missing or invalid token",
               403: "Not allowed", 404: "Not found (or not yours)", 405: "Method not allowed", 409: "Conflict",
               422: "Invalid input", 503: "Not ready"}


def _openapi_path(path: str) -> tuple[str, list[dict[str, Any]]]:
    """aiohttp's `{name:a|b}` placeholders as OpenAPI's `{name}`, with typed path parameters."""
    parameters = []
    for name, pattern in re.findall(r"{(\w+)(?::([^}]+))?}", path):
        schema: dict[str, Any] = {"type": "string"}
        if pattern and re.fullmatch(r"[\w-]+(\|[\w-]+)*", pattern):
            schema["enum"] = pattern.split("|")
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return re.sub(r"{(\w+):[^}]+}", r"{\1}", path), parameters


def openapi_document(routes: Iterable[Any]) -> dict[str, Any]:
    components: dict[str, Any] = {"Error": ERROR_SCHEMA, "Slot": SLOT_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        path, path_parameters = _openapi_path(route.path)
        operation: dict[str, Any] = {
            "summary": route.summary,
            "tags": [route.tag],
            "operationId": route.handler.__name__,
            "parameters": path_parameters
            + [{"name": n, "in": "query", "required": False, "description": d, "schema": {"type": "string"}} for n, d in route.query],
            "responses": {str(route.ok): {"description": STATUS_TEXT.get(route.ok, "OK")}},
        }
        if route.tag not in ("health",) and route.path != "/openapi.json":
            operation["security"] = [{"bearer": []}]
        if route.handler.__name__ == "create_booking":
            operation["parameters"].append(
                {"name": "Idempotency-Key", "in": "header", "required": True, "schema": {"type": "string", "maxLength": 200}}
            )
        if route.body is not None:
            schema = route.body.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(schema.pop("$defs", {}))
            components[route.body.__name__] = schema
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{route.body.__name__}"}}},
            }
        for status in route.errors:
            operation["responses"][str(status)] = {
                "description": STATUS_TEXT.get(status, "Error"),
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        paths.setdefault(path, {})[route.method.lower()] = operation
    for model in (schemas.ServiceCreate, schemas.ServiceUpdate, schemas.StaffCreate, schemas.StaffUpdate,
                  schemas.ResourceCreate, schemas.ResourceUpdate, schemas.HoursCreate, schemas.TimeOffCreate):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Booka booking service",
            "version": "1.0.0",
            "description": "Tenants' catalogs, availability, holds and bookings. Catalog bodies by collection: "
            "services → ServiceCreate/ServiceUpdate, staff → StaffCreate/StaffUpdate, resources → "
            "ResourceCreate/ResourceUpdate, hours → HoursCreate, time-off → TimeOffCreate.",
        },
        "components": {"schemas": components, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": paths,
    }
