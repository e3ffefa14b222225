"""`manage.py recognize`: recognise links or share texts offline and print one JSON object per input."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from parsing.recognition import ENDPOINTS, recognize


class Command(BaseCommand):
    help = (
        "Recognise links or share texts without network access. Prints one JSON object per input "
        "(input, supported, platform, kind, id, short, url, reason, endpoint): supported says whether "
        "the --operation's endpoint accepts it (POST /api/v1/parse by default); endpoint names the endpoint "
        "that serves the link whatever the operation (parse, live or collection; null when none does). "
        "Use - to read one input per line from stdin."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("texts", nargs="*", metavar="TEXT", help="a link or share text; - reads stdin")
        parser.add_argument(
            "--operation", choices=ENDPOINTS, default="parse",
            help="recognise for POST /api/v1/<operation>: parse (default), live or collection",
        )

    def handle(self, *args: Any, texts: list[str], operation: str = "parse", **options: Any) -> None:
        """Print the recognition of every input for the operation as one JSON line."""
        for text in self._inputs(texts):
            self.stdout.write(json.dumps(recognize(text, operation).as_dict(), ensure_ascii=False))

    def _inputs(self, texts: list[str]) -> Iterator[str]:
        """Yield the arguments in order, expanding "-" to the non-blank lines of stdin."""
        for text in texts:
            if text != "-":
                yield text
                continue
            for line in sys.stdin:
                line = line.rstrip("\r\n")
                if line.strip():
                    yield line
