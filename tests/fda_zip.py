"""Build Drugs@FDA zips, as FDA publishes them, from folders of tab-separated tables."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterable
from pathlib import Path


def build(
    files: Iterable[Path],
    released: dt.date,
    *,
    drop: tuple[str, ...] = (),
    edit: dict[str, bytes] | None = None,
) -> bytes:
    buffer = io.BytesIO()
    stamp = (released.year, released.month, released.day, 6, 0, 0)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files, key=lambda p: p.name):
            if path.name in drop:
                continue
            content = (edit or {}).get(path.name, path.read_bytes())
            archive.writestr(zipfile.ZipInfo(path.name, stamp), content)
    return buffer.getvalue()
