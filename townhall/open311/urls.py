"""GeoReport v2 at /open311/v2/: every operation with a .json or .xml suffix."""

from django.urls import path

from townhall.core.routers import reading_from_replica
from townhall.open311.ops.discovery import discovery_view
from townhall.open311.ops.openapi import openapi_view
from townhall.open311.ops.request_get import request_get_view
from townhall.open311.ops.requests_endpoint import requests_view
from townhall.open311.ops.service_definition import service_definition_view
from townhall.open311.ops.service_list import service_list_view
from townhall.open311.ops.token_get import token_get_view

app_name = "open311"
urlpatterns = [
    path("openapi.json", openapi_view, name="openapi"),
    path("discovery.<str:fmt>", discovery_view, name="discovery"),
    path("services.<str:fmt>", reading_from_replica()(service_list_view), name="services"),
    path(
        "services/<str:service_code>.<str:fmt>",
        reading_from_replica()(service_definition_view),
        name="service",
    ),
    path("requests.<str:fmt>", requests_view, name="requests"),
    path(
        "requests/<str:service_request_id>.<str:fmt>",
        reading_from_replica()(request_get_view),
        name="request",
    ),
    path("tokens/<str:token>.<str:fmt>", token_get_view, name="token"),
]
