"""Example: a provincial office reads the events the hub delivers to it, with the SDK's Consumer (``--help``)."""

from __future__ import annotations

import argparse
import asyncio

from casehub.connectors.sdk import Consumer, Received
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
    parser.add_argument("--bootstrap", help="Kafka bootstrap servers (default: from CASEHUB_* settings)")
    parser.add_argument("--org", default="pso-84", help="your organisation id; you read partner.<org>.outbound")
    parser.add_argument("--group", help="consumer group id (default: <org>-sdk)")
    parser.add_argument("--max-events", type=int, help="stop after this many events")
    parser.add_argument("--idle-timeout", type=float, help="stop when nothing arrived for this many seconds")
    args = parser.parse_args()
    settings = Settings(kafka_bootstrap=args.bootstrap) if args.bootstrap else Settings()
    configure_logging(settings.log_level)  # JSON logs on stderr; stdout stays for the example's output

    async with Consumer(settings, args.org, group_id=args.group) as consumer:
        handled = await consumer.run(show, max_events=args.max_events, idle_timeout=args.idle_timeout)
    print(f"handled {handled} event(s)")


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except HubError as error:
        print(f"error: {error}")
        raise SystemExit(1) from None
