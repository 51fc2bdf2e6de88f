"""The OpenAPI schema is complete enough for a generated client."""

import typing

from django.test import Client
from pydantic import BaseModel

from gongzhi.api.openapi import app_prefix, clashing_names
from gongzhi.api.urls import api

METHODS = {"get", "post", "put", "patch", "delete"}


def operations(schema):
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, op


def test_every_operation_has_a_unique_id_and_declared_answers(db):
    schema = Client().get("/api/v1/openapi.json").json()
    ids = [op["operationId"] for _p, _m, op in operations(schema)]
    assert len(ids) > 100
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    components = schema["components"]["schemas"]
    assert {"ErrorOut", "ValidationErrorOut"} <= set(components)
    for path, method, op in operations(schema):
        where = f"{method.upper()} {path}"
        responses = op["responses"]
        ok = [code for code in responses if code.startswith("2")]
        assert ok, where
        for code in ok:
            if code != "204":  # No Content
                content = responses[code]["content"]
                assert all("schema" in body for body in content.values()), where
        assert "429" in responses, where
        assert "Retry-After" in responses["429"]["headers"], where
        if op.get("security"):
            assert {"401", "403"} <= set(responses), where
        if "{" in path or op.get("parameters") or op.get("requestBody"):
            assert {"400", "404", "422"} <= set(responses), where
            assert responses["422"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ValidationErrorOut"}
        for code, answer in responses.items():
            if code[0] in "45":
                ref = answer["content"]["application/json"]["schema"]["$ref"]
                assert ref.rsplit("/", 1)[1] in components, where


def _models(annotation, found):
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation not in found:
            found.add(annotation)
            for field in annotation.model_fields.values():
                _models(field.annotation, found)
        return
    for arg in typing.get_args(annotation):
        _models(arg, found)


def test_classes_of_one_name_get_distinct_components(db):
    """Ninja names a component after its class: two apps' classes of one name would silently
    replace each other in the schema (and a client would parse the wrong shape), so
    ``gongzhi.api.openapi`` prefixes such names with their app."""
    found: set[type] = set()
    for bound in api._get_bound_routers():
        for path_view in bound.path_operations.values():
            for op in path_view.operations:
                for code, model in (op.response_models or {}).items():
                    if str(code).startswith("2") and model is not None:
                        _models(model, found)
    found = {m for m in found if m.__module__.startswith("gongzhi.")
             and m.__name__ != "NinjaResponseSchema" and m.__module__ != "gongzhi.api.errors"}
    clashing = clashing_names()
    components = Client().get("/api/v1/openapi.json").json()["components"]["schemas"]
    names = set()
    for model in found:
        name = (app_prefix(model.__module__) + model.__name__ if model.__name__ in clashing
                else model.__name__)
        assert name not in names, name
        names.add(name)
        if model.__name__ in clashing:
            assert model.__name__ not in components, model
    assert names & set(components)
    assert app_prefix("gongzhi.meetings.api_public_affairs") == "MeetingsPublicAffairs"
    assert app_prefix("gongzhi.visits.api") == "Visits"
