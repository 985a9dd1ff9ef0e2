"""RFC 9457 problem details: every error answer of the gateway, made in one place (its exception handlers).

Each answer is ``application/problem+json``: ``type`` (a URI under ``/problems/`` that describes the
problem, one per ``code``), ``title``, ``status``, ``detail``, ``instance`` (the request path), and the
extension members ``code``, ``hint`` and ``errors`` (field-level problems per event: index, field, message).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from casehub.connectors.gateway.exceptions import error_code, error_headers, http_status
from casehub.connectors.gateway.models import FieldProblem, Problem, ProblemType
from casehub.core.errors import HubError
from casehub.core.logging import get_logger

log = get_logger(__name__)
MEDIA_TYPE = "application/problem+json"
PATH_SAFE = "/:@!$&'()*+,;=-._~"
TYPES_PATH = "/problems"

# code: (status, title, what it means and what to do)
PROBLEM_TYPES: dict[str, tuple[int, str, str]] = {
    "bad_request": (400, "The request cannot be read",
                    "The body is not JSON (or not the shape the media type names), or a header or parameter is invalid."),
    "unauthenticated": (401, "No valid API key",
                        "The API key is missing, unknown or revoked; which of the three is not said. Send "
                        "`Authorization: Bearer <key>`; the hub's operators issue keys."),
    "forbidden": (403, "The key may not do this",
                  "A partner key on an operator route, or an operator key on a partner route."),
    "not_found": (404, "Not found", "No such resource, or none the caller may see (the answer is the same)."),
    "method_not_allowed": (405, "Method not allowed", "The path exists but not with this HTTP method."),
    "too_large": (413, "Too large", "The body is over the size limit, or the batch holds more events than allowed."),
    "unsupported_media_type": (415, "Unsupported media type", "Send one of the media types the operation documents."),
    "invalid_events": (422, "Invalid events",
                       "At least one event breaks the contract (schema or domain rules); nothing was written. "
                       "`errors` lists every problem of every event; fix them and send the whole request again."),
    "invalid_rows": (422, "No row could be written",
                     "Every row of the CSV upload is invalid, or some are and the upload was all-or-nothing. `errors` "
                     "and `bad_rows` list the problems by row; fix them and upload the whole file again."),
    "rate_limited": (429, "Rate limit spent", "Wait Retry-After seconds, or put events into batches."),
    "topic_missing": (503, "Topic not provisioned",
                      "The partner's topic does not exist on the cluster yet; the hub's operators provision it."),
    "write_failed": (503, "Kafka did not acknowledge",
                     "Nothing is known to be written. Retry the same request after Retry-After: event ids make it safe."),
    "not_ready": (503, "Not ready", "The gateway is still reading the case state after a start; retry after Retry-After."),
    "internal_error": (500, "Internal error", "An unexpected failure; the hub's operators are told by the logs."),
    "http_error": (400, "HTTP error", "The request failed at the HTTP level."),
}


def type_uri(request: Request, code: str) -> str:
    """The absolute URI of a problem type (``GET`` it for a ProblemType): under CASEHUB_PUBLIC_URL when it is set,
    else at the address the request came to."""
    public_url = getattr(request.app.state.gateway.settings, "public_url", None)
    return (public_url or str(request.base_url)).rstrip("/") + f"{TYPES_PATH}/{code}"


def instance_of(request: Request) -> str:
    """The request path as a URI reference: percent-encoded as the client sent it (the decoded path may not be one)."""
    return quote(request.url.path, safe=PATH_SAFE)


def problem(request: Request, status: int, code: str, detail: str, *, hint: str | None = None,
            errors: list[FieldProblem] | None = None, headers: dict[str, str] | None = None,
            document: type[Problem] = Problem, **members: Any) -> JSONResponse:
    """The problem+json answer of one error (``document`` and ``members``: a Problem with more extension members)."""
    title = PROBLEM_TYPES.get(code, PROBLEM_TYPES["http_error"])[1]
    body = document(type=type_uri(request, code), title=title, status=status, detail=detail,
                    instance=instance_of(request), code=code, hint=hint, errors=errors or [], **members)
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers, media_type=MEDIA_TYPE)


async def _hub_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HubError)
    status = http_status(exc)
    if status >= 500 and status != 503:
        log.error("request failed", path=request.url.path, error=str(exc))
    found = getattr(exc, "problems", [])
    errors = [FieldProblem(index=p.index, field=p.field, message=p.message) for p in found]
    return problem(request, status, error_code(exc), exc.message, hint=exc.hint, errors=errors, headers=error_headers(exc))


async def _invalid_parameters(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        FieldProblem(index=0, field=".".join(str(part) for part in e.get("loc", ())), message=str(e.get("msg", "")))
        for e in exc.errors()
    ]
    return problem(request, 400, "bad_request", "a header or parameter is invalid", errors=errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return problem(request, exc.status_code, code, str(exc.detail), headers=dict(exc.headers or {}))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected failure", path=request.url.path, exception=type(exc).__name__, error=str(exc))
    return problem(request, 500, "internal_error", "the gateway failed unexpectedly")


def install(app: FastAPI) -> None:
    """Every error the app can raise becomes a problem+json answer; and the problem types are served."""
    app.add_exception_handler(HubError, _hub_error)
    app.add_exception_handler(RequestValidationError, _invalid_parameters)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    app.include_router(types_router)


types_router = APIRouter(tags=["problems"])


@types_router.get(
    TYPES_PATH + "/{code}",
    operation_id="getProblemType",
    response_model=ProblemType,
    summary="What a problem type means",
    description="The `type` of every error answer is this URL; it describes the problem and what to do about it.",
    responses={404: {"description": "No such problem type",
                     "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}},
)
async def problem_type(request: Request, code: Annotated[str, Path(description="The problem's code, e.g. invalid_events")]) -> Any:
    if code not in PROBLEM_TYPES:
        return problem(request, 404, "not_found", f"no problem type {code!r}")
    status, title, description = PROBLEM_TYPES[code]
    return ProblemType(type=type_uri(request, code), code=code, title=title, status=status, description=description)
