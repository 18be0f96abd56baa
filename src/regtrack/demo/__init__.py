"""`regtrack demo`: the whole system offline. Serves the bundled documents (`data/`) from a
local HTTP server, points every source at it, runs the real daemon jobs twice with the EU
switch of selinexor from conditional to full authorisation in between, sends the digest to
.eml files, and returns what a new user should look at.
"""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path
from typing import Any

DATA = Path(str(files("regtrack.demo") / "data"))
EMA_EPAR = "https://www.ema.europa.eu/en/medicines/human/EPAR/"


def documents(cycle: int) -> dict[str, tuple[bytes, str]]:
    """URL path -> (bytes, content type) as the bodies publish them in each cycle."""

    def read(name: str) -> bytes:
        return (DATA / name).read_bytes()

    release = io.BytesIO()
    with zipfile.ZipFile(release, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted((DATA / "fda_release").glob("*.txt")):
            archive.writestr(zipfile.ZipInfo(path.name, (2025, 3, 4, 6, 0, 0)), path.read_bytes())
    html, js, pdf = "text/html; charset=utf-8", "application/json", "application/pdf"
    return {
        "/ema/report.json": (read(f"ema_report_cycle{cycle}.json"), js),
        "/ema/epar/nexpovio": (read("ema_epar_nexpovio.html"), html),
        "/ec/h1537.htm": (read(f"ec_h1537_cycle{cycle}.html"), html),
        "/fda/download": (release.getvalue(), "application/zip"),
        "/fda/drugsfda.json": (read("openfda_selinexor.json"), js),
        "/fda/accelerated.pdf": (read("fda_cder_accelerated.pdf"), pdf),
        "/mhra/grants": (read("mhra_grants_publication.json"), js),
        "/mhra/search.json": (read("mhra_announcements.json"), js),
        "/nice/guidance/published": (read("nice_listing_published_2024-06-01.html"), html),
        "/nice/guidance/ta970": (read("nice_ta970.html"), html),
        "/nice/guidance/ta974": (read("nice_ta974.html"), html),
        "/nice/guidance/indevelopment": (read("nice_listing_indevelopment.html"), html),
        # zetamab's project: its draft guidance (not recommended), then the final draft
        # guidance, which recommends it (a reversal, news in the second cycle's digest).
        "/nice/guidance/indevelopment/gid-ta11401": (
            read(f"nice_gid-ta11401_cycle{cycle}.html"),
            html,
        ),
        "/nice/guidance/GID-TA11401/documents/129": (
            read("nice_gid-ta11401_draft-guidance.pdf"),
            pdf,
        ),
        "/nice/guidance/GID-TA11401/documents/final-draft-guidance": (
            read("nice_gid-ta11401_final-draft-guidance.pdf"),
            pdf,
        ),
        "/smc/listing": (read("smc_listing_2024-10-07.json"), js),
        "/medicines-advice/selinexor-nexpovio-abbreviated-smc2721/": (
            read("smc_selinexor-nexpovio-abbreviated-smc2721.html"),
            html,
        ),
        "/medicines-advice/zetamab-zetavia-full-smc2760/": (
            read("smc_zetamab-zetavia-full-smc2760.html"),
            html,
        ),
        "/medicines-advice/selinexor-nexpovio-full-smc2722/": (
            read("smc_selinexor-nexpovio-full-smc2722.html"),
            html,
        ),
    }


class _Handler(BaseHTTPRequestHandler):
    # Connections kept alive, as the bodies' own servers keep them (every answer says its
    # length; a 304 has no body).
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        server: Any = self.server
        server.requests = getattr(server, "requests", 0) + 1
        found = server.documents.get(self.path.split("?")[0])
        if found is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = server.rewrite(found[0])
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", found[1])
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)


def serve(
    documents: dict[str, tuple[bytes, str]], rewrite: Callable[[str, bytes], bytes] | None = None
) -> Any:
    """A loopback HTTP server for `documents` (path -> bytes, content type), with ETags and
    304s; `rewrite(base, body)` adapts a document to the server's address. Stop: .shutdown()."""
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.base = f"http://127.0.0.1:{server.server_address[1]}"
    server.documents = documents
    server.rewrite = lambda body: rewrite(server.base, body) if rewrite else body
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _local_epar(base: str, body: bytes) -> bytes:
    return body.replace(EMA_EPAR.encode(), f"{base}/ema/epar/".encode())


def config_text(base: str, folder: Path) -> str:
    return f"""# Written by `regtrack demo`: every source points at the local demo server.
[database]
url = "sqlite:///{folder / "demo.db"}"
[fetch]
min_interval_seconds = 0
robots_txt = false
[sources.ema]
url = "{base}/ema/report.json"
min_rows = 5
# The demo replays 2022's switch today, from a report with no date of its own: no window
# (a real report's own date opens it; see news_window_days in config.toml).
news_window_days = 0
max_vanished_fraction = 0.5
union_register_url = "{base}/ec/h{{number}}.htm"
eu_numbers = {{ "EMEA/H/C/005127" = "EU/1/21/1537" }}
[sources.fda]
datafiles_url = "{base}/fda/download"
openfda_url = "{base}/fda/drugsfda.json"
accelerated_url = "{base}/fda/accelerated.pdf"
applications = ["NDA212306"]
min_applications = 1
[sources.mhra]
grants_url = "{base}/mhra/grants"
announcements_url = "{base}/mhra/search.json"
[sources.nice]
base_url = "{base}/nice"
listings = ["/guidance/published", "/guidance/indevelopment"]
[sources.smc]
base_url = "{base}"
listing_url = "{base}/smc/listing"
publication_week_only = false
[mail]
backend = "file"
directory = "{folder / "mail"}"
sender = "regtrack demo <regtrack@example.org>"
[[recipients]]
email = "you@example.org"
name = "You"
  [[recipients.subscriptions]]
  name = "selinexor, as it happens"
  frequency = "immediate"
  products = ["selinexor"]
[daemon]
spread_seconds = 0
[[products]]
name = "selinexor"
aliases = ["Xpovio", "Nexpovio", "KPT-330"]
[[products]]
name = "zetamab"
aliases = ["Zetavia"]
"""


@dataclass
class DemoResult:
    folder: Path
    config: Path
    cycles: list[list[tuple[str, str | None]]] = field(default_factory=list)
    digest_files: list[Path] = field(default_factory=list)
    digest_text: str = ""


#: The file that marks a folder as the demo's, listing what the demo makes in it.
MARKER = ".regtrack-demo"
MADE = ("config.toml", "demo.db", "demo.db-wal", "demo.db-shm", "demo.db-journal", "mail")


def clear(folder: Path) -> None:
    """Make `folder` ready for a demo without deleting anything regtrack did not make: a new
    or empty folder is used as it is; an earlier demo's folder (it holds `MARKER`) loses what
    that demo made; any other file in it refuses the folder, with one line naming it."""
    import shutil

    from ..errors import InputError

    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: not a folder; the demo needs a new or empty one")
    entries = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    if not entries:
        return
    marker = folder / MARKER
    made = set(marker.read_text().split("\n")) if marker.is_file() else set()
    foreign = [name for name in entries if name not in made and name != MARKER]
    if foreign:
        shown = ", ".join(foreign[:5]) + (" …" if len(foreign) > 5 else "")
        raise InputError(
            f"{folder}: holds files the demo did not make ({shown}); regtrack deletes only "
            "what it made: give a new or empty folder, or an earlier demo's"
        )
    for name in entries:
        path = folder / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def run(folder: Path, cycle: Callable[[Path], list[tuple[str, str | None]]]) -> DemoResult:
    """Serve the documents, run `cycle(config)` twice (the EU switch in between). The folder
    is `clear`ed first; what the demo makes in it is listed in its marker."""
    clear(folder)
    folder.mkdir(parents=True, exist_ok=True)
    folder = folder.resolve()  # its config names absolute paths, whatever folder it is run in
    # What the demo makes, listed before it makes it: a demo stopped half way is still its own.
    (folder / MARKER).write_text("\n".join(MADE))
    server = serve(documents(1), _local_epar)
    config = folder / "config.toml"
    config.write_text(config_text(server.base, folder))
    result = DemoResult(folder, config)
    try:
        result.cycles.append(cycle(config))
        before = set((folder / "mail").glob("*.eml"))
        server.documents = documents(2)  # the EMA report now says: full authorisation
        result.cycles.append(cycle(config))
        result.digest_files = sorted(set((folder / "mail").glob("*.eml")) - before)
    finally:
        server.shutdown()
    for path in result.digest_files:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if "digest" in str(message["Subject"]):
            body = message.get_body(("plain",))
            text = body.get_content() if body is not None else ""
            result.digest_text = f"Subject: {message['Subject']}\n\n{text}"
    return result
