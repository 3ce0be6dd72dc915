"""The feed subscriptions on disk: ``data_dir/feeds.json``, read whole and written whole, atomically.

Each ``Subscription`` keeps its feed's last refresh and outcome. Reading and refreshing the feeds is
``feeds.py``'s.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from rag.ingest.feed_parse import FeedError
from rag.ingest.library import one_line

FEEDS_FILE = "feeds.json"


@dataclass
class Subscription:
    """A subscribed feed and how its last refresh went (``last_ok`` None: never refreshed)."""

    url: str
    title: str = ""
    added: str = ""
    last_refresh: str = ""
    last_outcome: str = ""
    last_ok: bool | None = None
    last_failed: int = 0  # items of the last refresh that could not be indexed (the feed itself was read)


class FeedList:
    """The subscriptions in ``data_dir/feeds.json``: read whole, written whole and atomically."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def load(self) -> list[Subscription]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as error:
            raise FeedError(f"cannot read the feed list {self.path} ({one_line(error)}); fix or delete the file") from None
        known = Subscription.__dataclass_fields__
        try:
            return [Subscription(**{k: v for k, v in row.items() if k in known}) for row in raw.get("feeds", [])]
        except (AttributeError, TypeError) as error:
            raise FeedError(f"the feed list {self.path} is damaged ({one_line(error)}); fix or delete the file") from None

    def save(self, subscriptions: list[Subscription]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".feeds-", suffix=".json", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump({"feeds": [asdict(s) for s in subscriptions]}, out, ensure_ascii=False, indent=2)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def update(self, change) -> list[Subscription]:
        """Apply ``change(subscriptions)`` (in place) under the lock and save; the new list."""
        with self._lock:
            subscriptions = self.load()
            change(subscriptions)
            self.save(subscriptions)
            return subscriptions
