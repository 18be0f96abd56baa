"""The sections of the fetcher and the five bodies' sources."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
)

from .base import Section


class FetchConfig(Section):
    #: Who we are, so a webmaster can reach us instead of blocking us.
    user_agent: str = "regtrack/0.1 (medicines regulatory tracker)"
    contact: str | None = None
    timeout_seconds: float = Field(default=60.0, gt=0)
    max_bytes: int = Field(default=200_000_000, gt=0)
    #: One deadline for a whole request, however slowly the server sends (timeout_seconds is
    #: per read). A document not read by then is a fetch failure, tried again next poll.
    deadline_seconds: float = Field(default=300.0, gt=0, le=86400)
    #: Least time between two requests to one host; per-host values override it
    #: (openFDA allows 240 requests a minute; NICE asks for a 1 s crawl delay).
    min_interval_seconds: float = Field(default=1.0, ge=0)
    host_intervals: dict[str, float] = {"api.fda.gov": 0.25, "www.nice.org.uk": 1.0}
    #: Retries after a connection error, a timeout, a 5xx or a 429, with exponential backoff
    #: (or the server's Retry-After); a wait longer than max_retry_wait seconds is not waited
    #: for: the failure is recorded and the next scheduled poll tries again.
    retries: int = Field(default=3, ge=0)
    backoff_seconds: float = Field(default=2.0, ge=0)
    max_retry_wait: float = Field(default=60.0, ge=0)
    robots_txt: bool = True
    #: Hosts a document URL (`regtrack check URL`, `[[documents]] url`) may reach though they
    #: are loopback, private or link-local addresses (an intranet's document server); any
    #: other such target, first request or redirect, is refused.
    private_hosts: list[str] = []


class SourceConfig(Section):
    """What every source's section has: on or off, how often it polls, and its news window."""

    enabled: bool = True
    #: Hours between polls (a source whose body publishes to a rhythm may poll otherwise).
    interval_hours: float = Field(default=24.0, gt=0, le=8760)
    #: An event a later document shows for the first time, dated more than this many days
    #: before the feed's previous document, was published late: news (marked late) when it
    #: changes a known record's status, else history (stored, never sent). 0: no window.
    news_window_days: int = Field(default=90, ge=0, le=36500)


class EMAConfig(SourceConfig):
    url: str = (
        "https://www.ema.europa.eu/en/documents/report/medicines-output-medicines-report_en.xlsx"
    )
    #: EPAR pages and Commission Union Register pages to read for exact EU decision dates:
    #: "new" (products new or changed in the report; tracked products only on a first poll),
    #: "tracked" or "none".
    follow_pages: Literal["new", "tracked", "none"] = "new"
    union_register_url: str = (
        "https://ec.europa.eu/health/documents/community-register/html/h{number}.htm"
    )
    #: EU numbers for products whose EPAR page does not give one: product number -> EU number.
    eu_numbers: dict[str, str] = {}
    include_veterinary: bool = False
    #: The monthly list of medicines under evaluation by the CHMP (XLSX), linked from
    #: https://www.ema.europa.eu/en/find-medicine/human-medicines/medicines-under-evaluation;
    #: its address changes each month, so none is assumed: set it to read what is under
    #: evaluation, by substance and therapeutic area.
    under_evaluation_url: str | None = None
    #: Fewer rows than this is a truncated or wrong document, not a register.
    min_rows: int = Field(default=1000, ge=1)
    #: More than this share of known records vanishing at once is a shape problem.
    max_vanished_fraction: float = Field(default=0.05, ge=0, le=1)
    interval_hours: float = Field(default=12.0, gt=0, le=8760)


class FDAConfig(SourceConfig):
    #: Drugs@FDA data files: the whole US register, a zip of tab-separated tables, weekly.
    datafiles_url: str = "https://www.fda.gov/media/89850/download"
    #: CDER's "Drug and Biologic Accelerated Approvals Based on a Surrogate Endpoint" (PDF),
    #: linked from https://www.fda.gov/drugs/nda-and-bla-approvals/accelerated-approvals; its
    #: /media/<n>/download address changes with each edition, so none is assumed: set it to
    #: read conversions to traditional approval and withdrawn accelerated indications.
    accelerated_url: str | None = None
    #: openFDA drugsfda endpoint, for fresher checks of tracked products.
    openfda_url: str = "https://api.fda.gov/drug/drugsfda.json"
    openfda: bool = True
    #: Raises the daily openFDA limit from 1,000 to 120,000 requests. Prefer the environment
    #: variable REGTRACK_OPENFDA_API_KEY to writing it here; it is never stored with snapshots.
    api_key: str | None = None
    #: Applications to check on openFDA (NDA212306, BLA125514), besides the [[products]] names.
    applications: list[str] = []
    #: Terms per openFDA OR query, and results per page (openFDA allows up to 1,000).
    batch_size: int = Field(default=20, ge=1, le=100)
    page_size: int = Field(default=100, ge=1, le=1000)
    #: A data-files release with fewer applications is truncated.
    min_applications: int = Field(default=1000, ge=1)
    max_vanished_fraction: float = Field(default=0.05, ge=0, le=1)
    interval_hours: float = Field(default=168.0, gt=0, le=8760)
    openfda_interval_hours: float = Field(default=24.0, gt=0, le=8760)


FollowPages = Literal["new", "tracked", "none"]


class NICEConfig(SourceConfig):
    base_url: str = "https://www.nice.org.uk"
    #: Listing pages (their __NEXT_DATA__ JSON), paths below base_url; followed page by page.
    listings: list[str] = [
        "/guidance/published?ngt=Technology%20appraisal%20guidance&ps=50",
        "/guidance/terminated?ngt=Technology%20appraisal%20guidance&ps=50",
        "/guidance/indevelopment?ngt=Technology%20appraisal%20guidance&ps=50",
    ]
    #: Which TA and in-development pages to read for the decision: those new or changed in a
    #: listing ("new"; on the first poll only those of tracked products), only tracked
    #: products' ("tracked"), or none.
    follow_pages: FollowPages = "new"


class SMCConfig(SourceConfig):
    base_url: str = "https://www.scottishmedicines.org.uk"
    listing_url: str = (
        "https://www.scottishmedicines.org.uk/umbraco/Api/ListMedicineAdviceApi/"
        "GetResultsByType?active-tab=0&node-id=6990&current-page-0=1"
    )
    follow_pages: FollowPages = "new"
    #: True: polls daily in the week of the monthly publication (second Monday), weekly
    #: otherwise. False polls every day (the offline demo, or a mirror that changes any day).
    publication_week_only: bool = True
    #: SMC's monthly decisions release (Healthcare Improvement Scotland's media release, one
    #: page a month naming each medicine and its decision); {month} (april) and {year} are
    #: filled in for last month (missing: a health failure) and this month (a 404 until it
    #: is published). None: not read. config.toml sets it to the address HIS uses.
    decisions_url: str | None = None


class MHRAConfig(SourceConfig):
    #: GOV.UK Content API of the yearly grants publication; {year} is filled in. The next
    #: year's is read too from December on.
    grants_url: str = (
        "https://www.gov.uk/api/content/government/publications/"
        "marketing-authorisations-granted-in-{year}"
    )
    #: Earlier years to read as well (history).
    years: list[int] = []
    #: GOV.UK Search API: MHRA press releases and news stories, newest first.
    announcements_url: str = (
        "https://www.gov.uk/api/search.json?filter_organisations="
        "medicines-and-healthcare-products-regulatory-agency&filter_format=press_release"
        "&filter_format=news_story&order=-public_timestamp&count=50"
    )
    #: products.mhra.gov.uk search index (SmPC/PIL/PAR documents). It needs a query key:
    #: REGTRACK_MHRA_PRODUCTS_KEY or products_key; without one this feed is skipped.
    products_url: str = "https://mhraproducts4853.search.windows.net/indexes/products-index/docs"
    products_key: str | None = None
    #: A grants PDF with fewer rows is truncated or not a grants list.
    min_rows: int = Field(default=1, ge=1)


class SourcesConfig(Section):
    ema: EMAConfig = EMAConfig()
    fda: FDAConfig = FDAConfig()
    mhra: MHRAConfig = MHRAConfig()
    nice: NICEConfig = NICEConfig()
    smc: SMCConfig = SMCConfig()
