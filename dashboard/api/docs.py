"""The API reference page, rendered on the server from the OpenAPI description (no CDN, no JS)."""
import json

from flask import Blueprint, render_template
from flask_babel import gettext as _

from ..auth.decorators import role_required
from . import openapi

bp = Blueprint("api_docs", __name__, url_prefix="/api-docs")

METHODS = ("get", "post", "put", "patch", "delete")
MAX_DEPTH = 3


@bp.route("/")
@role_required("staff", "manager")
def index():
    spec = openapi.build()
    return render_template("api/docs.html", info=spec["info"], base=spec["servers"][0]["url"],
                           operations=operations(spec), responses=spec["components"]["responses"])


def operations(spec: dict) -> list[dict]:
    """Each endpoint with its parameters, body fields, examples and responses, ready to show."""
    schemas = spec["components"]["schemas"]
    out = []
    for path, methods in spec["paths"].items():
        for method in (m for m in METHODS if m in methods):
            op = methods[method]
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            out.append({
                "id": op["operationId"], "method": method.upper(), "path": path,
                "summary": op["summary"], "description": op["description"].split("\n\n"),
                "parameters": [{"name": p["name"], "in": p["in"], "required": p["required"],
                                "type": type_label(p["schema"], schemas)} for p in op.get("parameters", ())],
                "fields": fields(body["schema"], schemas) if body else [],
                "example": _pretty(body.get("example")),
                "responses": [_response(code, answer, spec) for code, answer in op["responses"].items()],
            })
    return out


def _response(code: str, answer: dict, spec: dict) -> dict:
    if "$ref" in answer:
        answer = spec["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    media = answer.get("content", {}).get("application/json", {})
    schema = media.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
    return {"code": code, "description": answer["description"], "schema": schema,
            "fields": fields(media["schema"], spec["components"]["schemas"]) if schema else [],
            "example": _pretty(media.get("example"))}


def resolve(schema: dict, schemas: dict) -> dict:
    return schemas[schema["$ref"].rsplit("/", 1)[1]] if "$ref" in schema else schema


def type_label(schema: dict, schemas: dict) -> str:
    """A short type for people: "integer 1-100", "array of string", "TemplateCard", "one of a, b",
    in the page's language (the JSON type names stay as they are)."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[1]
    if "enum" in schema:
        return _("one of %(values)s", values=", ".join(map(str, schema["enum"])))
    kinds = schema.get("type", "any")
    kinds = [kinds] if isinstance(kinds, str) else kinds
    label = kinds[0]
    for other in kinds[1:]:  # ["string", "null"]: "string or null"
        label = _("%(type)s or %(other)s", type=label, other=other)
    if label == "array":
        return _("array of %(type)s", type=type_label(schema.get("items", {}), schemas))
    if "minimum" in schema or "maximum" in schema:
        label += f" {schema.get('minimum', '')}–{schema.get('maximum', '')}"
    if "maxLength" in schema:
        label = _("%(type)s, at most %(num)s characters", type=label, num=schema["maxLength"])
    return label + (f" ({schema['format']})" if "format" in schema else "")


def fields(schema: dict, schemas: dict, prefix: str = "", depth: int = 0) -> list[dict]:
    """The object's fields by path ("recipients.users"), nested objects expanded; the card is
    named, not expanded (it has its own JSON Schema)."""
    name = schema.get("$ref", "").rsplit("/", 1)[-1]
    schema = resolve(schema, schemas)
    if name.startswith("TemplateCard") or depth > MAX_DEPTH:
        return []
    rows = []
    for key, prop in schema.get("properties", {}).items():
        path = f"{prefix}.{key}" if prefix else key
        rows.append({"path": path, "type": type_label(prop, schemas),
                     "required": key in schema.get("required", ()),
                     "description": resolve(prop, schemas).get("description", "")})
        inner = resolve(prop, schemas)
        if inner.get("type") == "array" and "$ref" in inner.get("items", {}):
            rows += fields(inner["items"], schemas, path + "[]", depth + 1)
        elif inner.get("type") == "object" and "$ref" in prop:
            rows += fields(prop, schemas, path, depth + 1)
    return rows


def _pretty(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) if value is not None else ""
