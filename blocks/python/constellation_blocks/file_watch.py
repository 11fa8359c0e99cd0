"""New files in a local directory, remembered in a small sensor cursor.

A cursor naming every file ever seen would grow without end (and Dagster stores it with every
tick). Files arrive with rising modification times, so the cursor keeps only the newest
modification time seen and the names that carry it: a file is new when it is newer than that, or
as new and not among those names. A file copied in with an older time kept (``cp -p``,
``rsync -t``) is therefore not seen; touch it, or drop it without keeping its time. Times are
nanoseconds, so two files written within one second are still told apart.
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NewFile:
    """A file the cursor had not seen: its path and its modification time (ns)."""

    path: Path
    mtime_ns: int

    @property
    def run_key(self) -> str:
        """Path and time: a file replaced by a newer one of the same name is new again, a rescan is not."""
        return f"{self.path}@{self.mtime_ns}"


class FileCursor:
    """The newest modification time seen and the names (relative to the directory) that have it."""

    def __init__(self, mtime_ns: int = -1, names: frozenset[str] = frozenset()):
        self.mtime_ns = mtime_ns
        self.names = names

    @classmethod
    def parse(cls, text: str | None) -> "FileCursor":
        """The cursor a sensor stored (``None`` before its first tick: every file is new)."""
        if not text:
            return cls()
        data = json.loads(text)
        return cls(int(data["mtime_ns"]), frozenset(data["names"]))

    def dump(self) -> str:
        return json.dumps({"mtime_ns": self.mtime_ns, "names": sorted(self.names)}, sort_keys=True)

    def scan(self, directory: Path, pattern: str) -> tuple[list[NewFile], "FileCursor"]:
        """The files under ``directory`` matching ``pattern`` that are new, oldest first, and the cursor after them."""
        found: list[tuple[int, str, Path]] = []
        for path in directory.glob(pattern):
            try:
                stat = path.stat()
            except FileNotFoundError:  # removed between listing and stat
                continue
            if path.is_file():
                found.append((stat.st_mtime_ns, path.relative_to(directory).as_posix(), path))
        new = sorted(
            (mtime, name, path)
            for mtime, name, path in found
            if mtime > self.mtime_ns or (mtime == self.mtime_ns and name not in self.names)
        )
        if not new:
            return [], self
        newest = max(mtime for mtime, _, _ in found)
        names = {name for mtime, name, _ in found if mtime == newest}
        # Names at the old newest time still count when no file is newer than it now.
        if newest == self.mtime_ns:
            names |= self.names
        return [NewFile(path, mtime) for mtime, _, path in new], FileCursor(newest, frozenset(names))


def missing_directory(directory: Path) -> str | None:
    """Why ``directory`` cannot be watched, or None when it can."""
    if not directory.exists():
        return f"{directory} does not exist (yet); create it where the Dagster daemon runs"
    if not directory.is_dir():
        return f"{directory} is not a directory"
    if not os.access(directory, os.R_OK | os.X_OK):
        return f"{directory} cannot be read by the Dagster daemon's user"
    return None
