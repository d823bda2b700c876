from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from messaging import retention
from messaging.durations import format_duration


class Command(BaseCommand):
    help = (
        "Delete what the runtime's tables no longer need: rows older than their retention "
        "(RETAIN_*), never a pending or refused outbox row, a parked record's or an open "
        "dead letter's rows, or an inbox entry within the inbox window."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="count per table what would be deleted, and date the oldest row kept",
        )
        parser.add_argument(
            "--batch-size", type=int, help="rows per DELETE statement (default PURGE_BATCH_SIZE)"
        )
        parser.add_argument(
            "--pause",
            type=float,
            help="pause after each batch, as a multiple of its time (default PURGE_PAUSE; "
            "0: back to back)",
        )
        parser.add_argument(
            "--table",
            action="append",
            dest="tables",
            choices=sorted(retention.targets()),
            help="only this table (repeatable); default: all",
        )

    def handle(
        self, *args, dry_run=False, batch_size=None, pause=None, tables=None, **options
    ) -> None:
        bars: dict[str, tqdm] = {}

        def progress(table: str, done: int, total: int) -> None:
            # One bar per table with rows to delete, each closed before the next opens.
            if dry_run or not total:
                return
            if table not in bars:
                for bar in bars.values():
                    bar.close()
                bars[table] = tqdm(total=total, desc=table, unit="row", dynamic_ncols=True)
            bars[table].update(done - bars[table].n)

        try:
            report = retention.purge(
                dry_run=dry_run,
                batch_size=batch_size,
                pause=pause,
                tables=tables,
                progress=progress,
            )
        except (retention.PurgeRunning, ImproperlyConfigured) as refusal:
            raise CommandError(str(refusal)) from None
        finally:
            for bar in bars.values():
                bar.close()
        verb = "would delete" if dry_run else "deleted"
        self.stdout.write(
            f"{'table':<20} {'kept for':>8} {verb:>12}  oldest row kept"
            + ("" if dry_run else "   rows/s")
        )
        for table in report.tables:
            count = table.expired if dry_run else table.deleted
            oldest = f"{table.oldest_kept:%Y-%m-%d %H:%M:%S}" if table.oldest_kept else "(none)"
            rate = "" if dry_run else f" {table.rate:>8,.0f}"
            line = f"{table.name:<20} {format_duration(table.window):>8} {count:>12,}  {oldest:<19}"
            self.stdout.write((line + rate).rstrip())
        if dry_run:
            self.stdout.write("Dry run: nothing was deleted.")
        else:
            seconds = sum(t.seconds for t in report.tables)
            self.stdout.write(f"Deleted {report.deleted:,} rows in {seconds:.1f} s.")
