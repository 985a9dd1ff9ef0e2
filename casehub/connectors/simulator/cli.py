"""``casehub simulate``: realistic partner traffic into the partners' inbound topics (or JSON lines)."""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from datetime import UTC, datetime

import click
from tqdm import tqdm

from casehub.connectors.simulator.exceptions import SimulatorConfigError
from casehub.connectors.simulator.linker import CaseLinker
from casehub.connectors.simulator.traffic import DEFAULT_UNTIL, SimulatedRecord, SimulatorOptions, generate
from casehub.connectors.simulator.writer import Summary, manifest_line, write_kafka, write_lines
from casehub.core.logging import configure_logging
from casehub.core.settings import Settings
from casehub.registry import load_registry


def _until(text: str | None) -> datetime:
    if text is None:
        return DEFAULT_UNTIL
    if text == "now":
        return datetime.now(UTC).replace(microsecond=0)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise SimulatorConfigError(f"--until {text!r} is not an ISO 8601 time", hint="e.g. 2026-11-01T00:00:00Z, or now") from exc
    if moment.tzinfo is None:
        raise SimulatorConfigError(f"--until {text!r} needs a UTC offset", hint="e.g. 2026-11-01T00:00:00+07:00")
    return moment


SHARE = click.FloatRange(0.0, 1.0)


@click.command()
@click.option("--count", "-n", type=click.IntRange(min=0), default=100, show_default=True, help="How many cases (or records, with --per events).")
@click.option("--per", type=click.Choice(["cases", "events"]), default="cases", show_default=True, help="What --count counts.")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same records, byte for byte.")
@click.option("--rate", type=click.FloatRange(min=0.0), default=0.0, show_default=True, help="Records per second; 0 = as fast as possible.")
@click.option("--duplicates", type=SHARE, default=0.05, show_default=True, help="Share of cases a second channel reports again within 72 h.")
@click.option("--retries", type=SHARE, default=0.02, show_default=True, help="Share of records a partner sends twice (same event id).")
@click.option("--malformed", type=SHARE, default=0.0, show_default=True, help="Share of records that also get a broken copy.")
@click.option("--structured-share", type=SHARE, default=0.1, show_default=True, help="Share of records in structured-mode JSON (the rest binary Avro).")
@click.option("--local-share", type=SHARE, default=0.5, show_default=True, help="Share of cases in tambons with a tambon centre or LAO in the registry.")
@click.option("--province", "provinces", multiple=True, help="Only these DOPA province codes (repeatable), e.g. --province 84.")
@click.option("--until", "until_text", default=None, help=f"Latest occurred_at (ISO 8601, or 'now'); default {DEFAULT_UNTIL.isoformat()} for reproducibility.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, allow_dash=True), default=None, help="Write JSON lines to FILE ('-' = stdout) instead of Kafka.")
@click.option("--dry-run", is_flag=True, help="Same as --out -: JSON lines on stdout, nothing sent.")
@click.option("--follow-hub", is_flag=True, help="Needs a running `casehub worker`: give follow-ups the case ids the hub assigned (read from cases.events).")
@click.option("--link-timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True, help="With --follow-hub: seconds to wait for the hub to open a case.")
@click.option("--manifest", "manifest_path", type=click.Path(dir_okay=False), default=None, help="Also write FILE: one JSON line per record written saying what it is (valid, duplicate, retry, or malformed and why).")
@click.option("--progress/--no-progress", default=True, show_default=True, help="Progress bar on stderr.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def simulate(count: int, per: str, seed: int, rate: float, duplicates: float, retries: float, malformed: float,
             structured_share: float, local_share: float, provinces: tuple[str, ...], until_text: str | None,
             out_path: str | None, dry_run: bool, follow_hub: bool, link_timeout: float, manifest_path: str | None, progress: bool,
             as_json: bool) -> None:
    """Write realistic partner traffic into partners' inbound topics (partner.<org>.inbound).

    Cases of 8-12 events (reported, triaged, assigned, assessed, plan approved, referrals, services, follow-ups,
    closed; sometimes consents, transfers, reopenings) over real tambons, with the hotline 1300 issue mix, sent by
    the organisations that would really send them. Options add cross-channel duplicate reports, partner retries
    and deliberately broken records; the summary says how many of each were written.
    """
    settings = Settings()
    configure_logging(settings.log_level)
    until = _until(until_text)
    if until > datetime.now(UTC):
        raise SimulatorConfigError(f"--until {until.isoformat()} is in the future: events would be refused",
                                   hint="pass --until now or an earlier time")
    if follow_hub and (dry_run or out_path):
        raise SimulatorConfigError("--follow-hub needs Kafka: it cannot be combined with --out or --dry-run")
    options = SimulatorOptions(per=per, duplicates=duplicates, retries=retries, malformed=malformed,  # type: ignore[arg-type]
                               structured_share=structured_share, local_share=local_share,
                               provinces=tuple(provinces) or None, until=until,
                               schema_base=settings.public_base_url())
    traffic = generate(seed, count, options, registry=load_registry(settings))
    target = "-" if dry_run else out_path
    with ExitStack() as stack:
        bar = stack.enter_context(tqdm(total=len(traffic), file=sys.stderr, unit="rec", disable=not progress, desc="simulate"))
        manifest = stack.enter_context(open(manifest_path, "w", encoding="utf-8")) if manifest_path else None  # noqa: SIM115

        def written(item: SimulatedRecord) -> None:
            bar.update()
            if manifest is not None:
                manifest.write(manifest_line(item) + "\n")

        if target is not None:
            out = sys.stdout if target == "-" else stack.enter_context(open(target, "w", encoding="utf-8"))  # noqa: SIM115
            summary = write_lines(traffic, out, rate=rate, on_written=written)
        else:
            linker = CaseLinker(settings, timeout=link_timeout) if follow_hub else None
            if linker is not None:
                stack.callback(linker.close)
            summary = write_kafka(traffic, settings, rate=rate, linker=linker, on_written=written)
    _report(summary, seed=seed, as_json=as_json, to_stderr=target == "-")


def _report(summary: Summary, *, seed: int, as_json: bool, to_stderr: bool) -> None:
    document = {"seed": seed, **summary.as_dict()}
    if as_json:
        click.echo(json.dumps(document, ensure_ascii=False, indent=1), err=to_stderr)
        return
    lines = [
        f"{summary.records} records for {len(summary.cases)} cases in {summary.seconds:.1f} s "
        f"(seed {seed}; {summary.modes['binary']} binary, {summary.modes['structured']} structured)",
        f"  valid {document['valid']}, duplicate reports {document['duplicates']}, retries {document['retries']}, "
        f"malformed {document['malformed']}",
    ]
    if summary.malformed_reasons:
        lines.append("  malformed: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.malformed_reasons.items())))
    if summary.linked_to_hub or summary.unlinked:
        lines.append(f"  follow-ups with the hub's case id {summary.linked_to_hub}, not sent (case never opened) {summary.unlinked}")
    lines += [f"  {count:>7}  {topic}" for topic, count in sorted(summary.per_topic.items())]
    for line in lines:
        click.echo(line, err=to_stderr)
