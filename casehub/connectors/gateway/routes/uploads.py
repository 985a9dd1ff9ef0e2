"""POST /v1/uploads/csv: a spreadsheet of case reports (text/csv or multipart ``file``) becomes case.reported events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from casehub.connectors.csv_import.ledger import UploadLedger
from casehub.connectors.csv_import.upload import answer_status, submit
from casehub.connectors.gateway.auth import Caller, caller
from casehub.connectors.gateway.exceptions import RequestInvalid
from casehub.connectors.gateway.models import FieldProblem, UploadProblem, UploadResult
from casehub.connectors.gateway.openapi import csv_request_body
from casehub.connectors.gateway.problems import MEDIA_TYPE, problem
from casehub.connectors.gateway.routes.common import errors, rate_limited_success, read_body
from casehub.connectors.gateway.state import gateway_of
from casehub.connectors.gateway.submission import media_type


async def _file_bytes(request: Request, limit: int) -> bytes:
    kind = media_type(request.headers.get("content-type"))
    if kind in ("text/csv", "text/plain", "application/csv", "application/octet-stream"):
        return await read_body(request, limit)
    if kind == "multipart/form-data":
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise RequestInvalid(f"the upload is {declared} bytes; at most {limit}", status=413)
        try:
            form = await request.form(max_files=1, max_fields=10)
        except Exception as exc:  # python-multipart raises several kinds for a malformed form
            raise RequestInvalid(f"the multipart form cannot be read: {exc}") from exc
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise RequestInvalid("the multipart form needs a file field named 'file'")
        content = await upload.read(limit + 1)
        if len(content) > limit:
            raise RequestInvalid(f"the file is larger than {limit} bytes", status=413)
        return content
    raise RequestInvalid(f"unsupported media type {kind!r}; send text/csv or multipart/form-data", status=415)


def router(max_bytes: int) -> APIRouter:
    """The upload route (its OpenAPI request body names the size limit)."""
    routes = APIRouter(tags=["uploads"])

    @routes.post(
        "/v1/uploads/csv",
        operation_id="uploadCsv",
        status_code=202,
        response_model=UploadResult,
        summary="Upload a spreadsheet of case reports",
        description=(
            "Each row becomes a case.reported event (Thai or English headers; Buddhist-era dates accepted). "
            "The answer lists every bad row with its row number (the header is row 1) and errors. By default the "
            "valid rows are written; with all_or_nothing=true nothing is written unless every row is valid (422). "
            "Event ids derive from the partner, the file's content and the row number, so uploading the same file "
            "again writes nothing twice (rows already written are answered already_submitted)."
        ),
        responses={
            202: rate_limited_success("The valid rows were written (or had been already); bad rows are listed"),
            422: {"description": "No row could be written (all bad, or all_or_nothing with bad rows)",
                  "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/UploadProblem"}}}},
            **errors(400, 401, 403, 413, 415, 429, 503),
        },
        openapi_extra={"requestBody": csv_request_body(max_bytes)},
    )
    async def upload_csv(
        request: Request,
        who: Annotated[Caller, Depends(caller)],
        all_or_nothing: Annotated[bool, Query(description="Write nothing unless every row is valid")] = False,
    ) -> JSONResponse:
        hub = gateway_of(request)
        raw = await _file_bytes(request, hub.settings.gateway_max_upload_bytes)
        result = await submit(
            raw, org=who.org, writer=hub.writer, ledger=UploadLedger(hub.uploads_dir), all_or_nothing=all_or_nothing
        )
        hub.metrics.events.labels(who.org, "accepted").inc(result.accepted)
        hub.metrics.events.labels(who.org, "already_submitted").inc(result.already_submitted)
        hub.metrics.events.labels(who.org, "rejected").inc(result.rejected)
        if answer_status(result) == 422:
            errors = [FieldProblem(index=bad.row, field=e.field, message=e.message) for bad in result.bad_rows for e in bad.errors]
            return problem(request, 422, "invalid_rows", f"{result.rejected} of {result.rows} row(s) are invalid; nothing was written",
                           hint="fix the rows listed in errors and upload the whole file again", errors=errors,
                           document=UploadProblem, **result.model_dump())
        return JSONResponse(result.model_dump(mode="json"), status_code=202)

    return routes
