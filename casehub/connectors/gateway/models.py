"""The gateway's response documents (and so its OpenAPI schemas): results, case views, errors."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldProblem(_Document):
    """One problem with one field of one event of the request."""

    index: int = Field(description="Position of the event in the batch (0 for a single event); in a CSV upload, the "
                       "row number (the header is row 1)")
    field: str = Field(description="Dotted path of the field at fault, e.g. subject.citizen_id; empty for the whole event")
    message: str


class Problem(_Document):
    """Every error answer: RFC 9457 problem details (``application/problem+json``) with casehub's extension members."""

    type: str = Field(
        description="URI of the problem type; GET it for what the problem means (one per code)",
        json_schema_extra={"format": "uri-reference"},
    )
    title: str = Field(description="Short summary of the problem type (the same for every occurrence)")
    status: int = Field(ge=400, le=599, description="The HTTP status of this answer")
    detail: str = Field(description="What went wrong with this request")
    instance: str = Field(description="The request path the problem occurred at", json_schema_extra={"format": "uri-reference"})
    code: str = Field(description="Machine-readable code, e.g. invalid_events, unauthenticated, rate_limited")
    hint: str | None = Field(default=None, description="What to do about it")
    errors: list[FieldProblem] = Field(default_factory=list, description="Field-level problems per event: index, field, message")


class ProblemType(_Document):
    """What a problem ``type`` URI names: the code, its title and status, and what to do."""

    type: str = Field(json_schema_extra={"format": "uri-reference"})
    code: str
    title: str
    status: int
    description: str


class AcceptedEvent(_Document):
    """One event of an accepted request."""

    index: int
    id: str
    type: str
    status: Literal["accepted", "already_submitted"] = Field(
        description="accepted: written now; already_submitted: this gateway wrote the same event before"
    )
    partition: int | None = Field(default=None, description="Partition of the inbound topic it was written to")
    offset: int | None = None


class SubmissionResult(_Document):
    """The answer to an accepted POST /v1/events: every event was written with acks=all."""

    source: str = Field(description="The CloudEvents source the hub records: the authenticated partner, /partners/<org>")
    topic: str
    accepted: int
    already_submitted: int
    events: list[AcceptedEvent]


class CaseLocation(_Document):
    """Where the case is, to the precision the caller may see (pseudonymised: amphoe and province only)."""

    tambon_code: str | None = None
    tambon_name_th: str | None = None
    tambon_name_en: str | None = None
    amphoe_code: str | None = None
    amphoe_name_th: str | None = None
    amphoe_name_en: str | None = None
    province_code: str | None = None
    province_name_th: str | None = None
    province_name_en: str | None = None


class CaseView(_Document):
    """A case's current state (from cases.state), projected to the caller's disclosure level."""

    case_id: str = Field(description="The hub's case id; for a pseudonymised caller, its own case reference (case-v1-…)")
    disclosure: Literal["full", "pseudonymised"]
    status: str = Field(description="open or closed")
    opened_at: str
    updated_at: str
    last_event_type: str
    events: int
    issue_category: str
    target_group: str
    location: CaseLocation
    subject_token: str | None = Field(
        default=None, description="The subject's pseudonym, keyed to the caller alone (subject-v1-…)"
    )
    risk_level: str | None = None
    owner: str | None = Field(default=None, description="Org id of the unit holding the case")
    assigned: bool
    assign_by: str | None = None
    provincial_office: str | None = None
    escalated_at: str | None = None
    linked_reports: int
    disclosure_consents: list[str] | None = Field(
        default=None,
        description="Partners the subject consented to disclosure to (pseudonymised: only ids that name no tambon)",
    )
    withheld: list[str] = Field(default_factory=list, description="Fields withheld at the caller's disclosure level")


class Health(_Document):
    """Whether the gateway can do its work."""

    status: Literal["ok", "unavailable"]
    kafka: bool = Field(description="The cluster answered a metadata request")
    cases_view_ready: bool = Field(description="cases.state was read up to its end at start-up")
    cases_known: int
    last_produce_ok: bool | None = Field(default=None, description="Whether the last write was acknowledged (None: none yet)")
    last_produce_error: str | None = Field(default=None, description="Why the last write failed")
    producers_replaced: int = Field(default=0, description="Fresh producers swapped in after the cluster forgot one")


class RowFieldError(_Document):
    """One problem in one cell (or the row as a whole, field empty)."""

    field: str
    message: str


class RowError(_Document):
    """A CSV row that did not become an event; ``row`` counts the header as row 1, as spreadsheets do."""

    row: int
    errors: list[RowFieldError]


class UploadedRow(_Document):
    """A CSV row that became an event."""

    row: int
    id: str
    status: Literal["accepted", "already_submitted", "not_written"] = Field(
        description="not_written: valid, but the upload was all-or-nothing and other rows were bad"
    )


class UploadResult(_Document):
    """The answer to a CSV upload: every valid row and every bad row with its errors."""

    source: str
    file_sha256: str = Field(description="Hash of the file's text; with the row number it makes the event ids")
    rows: int
    accepted: int
    already_submitted: int
    rejected: int
    policy: Literal["valid_rows", "all_or_nothing"]
    written: bool = Field(description="Whether any event was written by this request")
    events: list[UploadedRow]
    bad_rows: list[RowError]


class UploadProblem(Problem, UploadResult):
    """A CSV upload of which nothing could be written: a problem whose extension members are the upload's result."""
