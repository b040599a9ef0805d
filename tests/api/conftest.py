"""API tests: clients holding a token of a persona, whose every response is checked against the
OpenAPI document the API serves (openapi-core): a response the document does not describe fails."""

import json

import pytest
from django.test import Client
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse

from api import tokens


@pytest.fixture(scope="session")
def openapi():
    from api.views import api

    return OpenAPI.from_dict(json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/v1"))))


class ApiClient(Client):
    """A test client that sends a token and checks each answer against the OpenAPI document."""

    def __init__(self, openapi, token: str | None, **kwargs):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        super().__init__(**headers, **kwargs)
        self.openapi = openapi

    def request(self, **request):
        response = super().request(**request)
        match = response.wsgi_request.resolver_match
        documented = match is not None and match.func.__name__ != "_no_such_endpoint"  # not the JSON 404 of any path
        if documented and response.status_code != 405 and response.wsgi_request.path != "/api/v1/openapi.json":
            self.openapi.validate_response(DjangoOpenAPIRequest(response.wsgi_request), DjangoOpenAPIResponse(response))
        return response

    def send(self, method: str, url: str, body=None):
        if body is None:
            return getattr(self, method)(url)
        data = body if isinstance(body, (str, bytes)) else json.dumps(body)
        return getattr(self, method)(url, data=data, content_type="application/json")


@pytest.fixture
def token_for(openapi):
    """token_for(owner, read_only=False, domains=None) -> an ApiClient holding a new token."""

    def make(owner, read_only=False, domains=None, days=30):
        _, shown = tokens.create(
            acting_user=owner,
            owner=owner,
            name=f"t{owner.pk}-{read_only}-{len(tokens.of(owner))}",
            read_only=read_only,
            domains=domains,
            days=days,
            origin="test",
        )
        return ApiClient(openapi, shown)

    return make
