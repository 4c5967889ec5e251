"""`policy-match publish --dry-run`: the impact preview of the policies folder, printed; nothing
is written. The catalogue in force is read from `--against` (its policies folder): the
database keeps only its version."""

import argparse
from pathlib import Path
from typing import Any

from service.cli.output import (
    FAILED,
    OK,
    USAGE,
    checked,
    database_refused,
    loaded,
    on_terminal,
    say,
)
from service.core.i18n import Language, message, translate
from service.core.settings import get_settings

STATE_WORDS = {
    "matched": message("matched"),
    "near_miss": message("near miss"),
    "undetermined": message("undetermined"),
    "unmatched": message("not matched"),
    "absent": message("not in force"),
}
CHANGE_WORDS = {
    "added": message("added"),
    "removed": message("removed"),
    "changed": message("changed"),
}


def dry_run(args: argparse.Namespace) -> int:
    """Print the impact of the policies folder against the catalogue in force; write nothing."""
    from functools import partial

    from tqdm import tqdm

    from service.core.clock import today
    from service.core.database import make_engine
    from service.registry.preview import preview_impact, stored_firms
    from service.registry.preview_answer import preview_json
    from service.registry.publication import published_version

    language: Language = args.lang
    settings = get_settings()
    candidate = checked(args.policies or settings.policies_dir, language)
    if candidate is None:
        return FAILED
    refused = database_refused(settings.database_url, language)
    if refused is not None:
        return refused
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            in_force = published_version(connection)
        against: Path | None = args.against
        if against is None and in_force not in (None, candidate.version):
            said = message(
                "catalogue {version} is in force and the policies folder holds {candidate}: give "
                "--against, the policies folder of the catalogue in force",
                version=in_force,
                candidate=candidate.version,
            )
            say(f"policy-match: {translate(said, language)}", language, err=True)
            return USAGE
        current = candidate if against is None else loaded(against, language)
        if current is None:
            return FAILED
        with engine.connect() as connection:
            firms = stored_firms(connection)
            with tqdm(
                total=firms, unit="firm", disable=args.no_progress or not on_terminal()
            ) as bar:
                work = partial(preview_impact, day=today(), progress=bar.update)
                preview = work(connection, current, candidate)
        print_preview(preview_json(preview, current, candidate, language), language)
        return OK
    finally:
        engine.dispose()


def print_preview(body: dict[str, Any], language: Language) -> None:
    """A preview's answer as lines for a person, in `language`."""

    def line(text: Any, indent: int = 0) -> None:
        say(" " * indent + translate(text, language), language)

    line(
        message(
            "preview on {day}: catalogue {candidate} in place of {current}, over {firms} stored "
            "firm(s); nothing was written",
            day=body["day"],
            candidate=body["catalogue_version"],
            current=body["in_force_version"],
            firms=body["firms"],
        )
    )
    if not body["measures"]:
        line(message("no measure is added, removed or changed"), 2)
    for measure in body["measures"]:
        change = CHANGE_WORDS[measure["change"]].translate(language)
        line(f"{measure['measure_id']} {measure['title']} ({change})", 2)
        for side in ("gained", "lost"):
            counts = ", ".join(
                f"{c['county_name']} {c['firms']}" for c in measure[side]["by_county"]
            )
            firms, counties = measure[side]["firms"], counts or "-"
            said = (
                message("{firms} firm(s) would gain it: {counties}", firms=firms, counties=counties)
                if side == "gained"
                else message(
                    "{firms} firm(s) would lose it: {counties}", firms=firms, counties=counties
                )
            )
            line(said, 4)
            for firm in measure[side]["first"]:
                line(f"{firm['uscc']} {firm['name'] or ''}".rstrip(), 6)
        for move in measure["moved"]:
            was, now = STATE_WORDS[move["from"]], STATE_WORDS[move["to"]]
            line(f"{translate(was, language)} → {translate(now, language)}: {move['firms']}", 4)
    events = body["events"]
    line(
        message(
            "push events the re-match would write: {matched} measure.matched, {unmatched} "
            "measure.unmatched; {deliveries} deliveries to {subscriptions} active subscription(s)",
            matched=events["measure.matched"],
            unmatched=events["measure.unmatched"],
            deliveries=events["deliveries"],
            subscriptions=events["subscriptions"],
        ),
        2,
    )
    if body["stale_firms"]:
        line(
            message(
                "{firms} firm(s) have stored matches older than the catalogue in force or the "
                "day: their re-match may move other measures too",
                firms=body["stale_firms"],
            ),
            2,
        )
