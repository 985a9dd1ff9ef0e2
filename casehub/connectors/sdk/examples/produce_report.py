"""Example: a tambon centre reports a child left alone, with the SDK's Producer (``--help`` for options)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime
from pathlib import Path

from casehub.connectors.sdk import PartnerCredentials, Producer
from casehub.core.errors import HubError
from casehub.core.logging import configure_logging
from casehub.core.settings import Settings
from casehub.schemas.exceptions import EventInvalid
from casehub.schemas.models import CaseReported


def report(tambon: str) -> CaseReported:
    """A new report (no case id yet: the hub assigns one) of a 12-year-old girl left alone at home."""
    return CaseReported.model_validate({
        "id": f"example-{uuid.uuid4().hex[:12]}",
        "occurred_at": datetime.now(UTC),
        "issue_category": "children_youth",
        "target_group": "child",
        "location": {"tambon_code": tambon},
        "lawful_basis": {"basis": "public_task", "reference": "พ.ร.บ.คุ้มครองเด็ก พ.ศ. 2546 มาตรา 29"},
        "channel": "walk_in",
        "reporter_type": "neighbour",
        "subject": {"citizen_id": "1103700123458", "given_name": "ด.ญ.มะลิ", "family_name": "ใจดี",
                    "birth_date": "2014-03-09", "sex": "female", "nationality": "TH"},
        "summary": "เพื่อนบ้านแจ้งว่าเด็กหญิงถูกทิ้งให้อยู่ลำพังหลายวัน",
    })


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--credentials", type=Path, required=True,
                        help="your credentials: the JSON of `casehub partners credentials ORG --json`")
    parser.add_argument("--bootstrap", help="Kafka bootstrap servers (default: the one in the credentials)")
    parser.add_argument("--tambon", default="840502", help="DOPA tambon code where the child lives")
    args = parser.parse_args()
    settings = Settings()
    credentials = PartnerCredentials.load(args.credentials)
    if args.bootstrap:
        credentials = dataclasses.replace(credentials, bootstrap=args.bootstrap)
    configure_logging(settings.log_level)  # JSON logs on stderr; stdout stays for the example's output

    async with Producer(settings, credentials.org, credentials=credentials) as producer:
        sent = await producer.send(report(args.tambon))
    print(f"sent {sent.event_id} to {sent.topic} partition {sent.partition} offset {sent.offset}")


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except EventInvalid as invalid:
        for error in invalid.errors:
            print(f"invalid: {error.field}: {error.message}")
        raise SystemExit(2) from None
    except HubError as error:
        print(f"error: {error}")
        raise SystemExit(1) from None
