"""Example: a provincial office reads the events the hub delivers to it, with the SDK's Consumer (``--help``)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
from pathlib import Path

from casehub.connectors.sdk import Consumer, PartnerCredentials, Received
from casehub.core.errors import HubError
from casehub.core.logging import configure_logging
from casehub.core.settings import Settings


async def show(received: Received) -> None:
    """The handler: once it returns, the event's offset is committed; if it raised, the event would come again."""
    event = received.event
    print(f"{event.type} {event.id} case={event.case_id} disclosure={received.disclosure} "
          f"category={event.issue_category} offset={received.offset}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--credentials", type=Path, required=True,
                        help="your credentials: the JSON of `casehub partners credentials ORG --json`")
    parser.add_argument("--bootstrap", help="Kafka bootstrap servers (default: the one in the credentials)")
    parser.add_argument("--group", help="consumer group id (default: <org>.sdk; it must start with <org>.)")
    parser.add_argument("--max-events", type=int, help="stop after this many events")
    parser.add_argument("--idle-timeout", type=float, help="stop when nothing arrived for this many seconds")
    args = parser.parse_args()
    settings = Settings()
    credentials = PartnerCredentials.load(args.credentials)
    if args.bootstrap:
        credentials = dataclasses.replace(credentials, bootstrap=args.bootstrap)
    configure_logging(settings.log_level)  # JSON logs on stderr; stdout stays for the example's output

    async with Consumer(settings, credentials.org, group_id=args.group, credentials=credentials) as consumer:
        handled = await consumer.run(show, max_events=args.max_events, idle_timeout=args.idle_timeout)
    print(f"handled {handled} event(s)")


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except HubError as error:
        print(f"error: {error}")
        raise SystemExit(1) from None
