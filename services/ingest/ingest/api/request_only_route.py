"""A route for carrier webhooks: the endpoint takes the raw `Request` and returns its `Response`.

FastAPI's own handler around such an endpoint solves an empty set of dependencies, looks for a
body parameter there is none of and checks for a response model there is none of: ~15-20 µs a
request, ~7 % of ingest's CPU per webhook at saturation (issue 17). This route hands the request
straight to the endpoint instead; everything around it stays FastAPI's (routing, the exception
handlers through `request_response`, the OpenAPI operation built from the decorator's summary,
description and responses)."""

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute


class RequestOnlyRoute(APIRoute):
    """Use as `APIRouter(route_class=RequestOnlyRoute)` for endpoints `async def f(request)`."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        dependant = self.dependant
        takes_only_the_request = dependant.request_param_name is not None and not (
            dependant.dependencies
            or dependant.path_params
            or dependant.query_params
            or dependant.header_params
            or dependant.cookie_params
            or dependant.body_params
        )
        if not (takes_only_the_request and inspect.iscoroutinefunction(endpoint)):
            # Anything else needs FastAPI's handler: failing here beats ignoring a parameter.
            raise TypeError(f"{path}: a RequestOnlyRoute endpoint is async and takes only the Request")

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint

        async def handle(request: Request) -> Response:
            return await endpoint(request)

        return handle
