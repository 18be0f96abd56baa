"""Resolving product names to products inside one transaction, writing new ones in bulk.

A register of 25,000 applications names thousands of new products: they get provisional
(negative) ids while a document is applied, and are written with their aliases at `flush`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam, insert
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from ..model import Alias, NameKind, Product, ProductName, utcnow
from ..names import clean_name, normalise

#: Which name a product is named after, and matched by first: INN before brand.
RANK = {NameKind.CANONICAL: 0, NameKind.INN: 1, NameKind.SUBSTANCE: 2, NameKind.BRAND: 3,
        NameKind.CODE: 4}  # fmt: skip
CHUNK = 500
#: The aliases a page names (a Core statement built once: a poll asks it per page).
_ALIASES_NAMED = sa_select(col(Alias.norm), col(Alias.product_id)).where(
    col(Alias.norm).in_(bindparam("norms", expanding=True))
)
#: Above this many distinct names a document's aliases are read whole, not looked up.
FULL_LOAD = 2000


def _insert_new(dialect: str, table: type[Any]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING, in the dialect's own words."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing()
    return insert(table)


class Products:
    """Name -> product id for one transaction (see module docstring)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._aliases: dict[str, int] | None = None
        self._new: dict[str, int] = {}  # canonical name -> provisional id
        self._pending: list[dict[str, Any]] = []  # alias rows not yet written
        self._partial = False  # aliases hold only what `prepare` looked up
        self._prepared: set[str] = set()

    def prepare(self, names: Iterable[ProductName]) -> None:
        """Load the aliases a document will ask about: only those for a page that names one
        product, the whole table for a register that names thousands."""
        if self._aliases is not None:
            return
        names = list(names)
        # A register names tens of thousands: no need to normalise them all to know that.
        norms = (
            {norm for n in names if (norm := normalise(n.name))}
            if len(names) <= FULL_LOAD
            else set()
        )
        if len(names) > FULL_LOAD or len(norms) > FULL_LOAD:
            self._aliases = dict(self.session.exec(select(Alias.norm, Alias.product_id)).all())
            return
        found: dict[str, int] = {}
        ordered = sorted(norms)
        connection = self.session.connection()
        for start in range(0, len(ordered), CHUNK):
            rows = connection.execute(_ALIASES_NAMED, {"norms": ordered[start : start + CHUNK]})
            found |= {norm: pid for norm, pid in rows}
        self._aliases = found
        self._partial = True
        self._prepared = norms

    def resolve(self, names: Sequence[ProductName], *, origin: str) -> int:
        """The product these names belong to, or a provisional id for a new one named by its
        INN; names not yet known become aliases. Provisional ids are negative until `flush`."""
        if not names:
            raise ValueError("a record with no product name at all (a source's bug)")
        if self._aliases is None or (self._partial and not self._covers(names)):
            self._aliases = dict(self.session.exec(select(Alias.norm, Alias.product_id)).all())
            self._partial = False
        aliases = self._aliases
        ranked = [
            ProductName(clean_name(n.name), n.kind, n.region)
            for n in sorted(names, key=lambda n: RANK.get(n.kind, 9))
        ]
        ranked = [n for n in ranked if n.name] or ranked
        norms = [normalise(n.name) for n in ranked]
        pid = next((aliases[norm] for norm in norms if norm in aliases), None)
        if pid is None:
            pid = self._new.setdefault(ranked[0].name, -(len(self._new) + 1))
        for n, norm in zip(ranked, norms, strict=True):
            if norm and norm not in aliases:
                aliases[norm] = pid
                self._pending.append(
                    {"product_id": pid, "name": n.name, "norm": norm, "kind": n.kind.value,
                     "region": n.region, "origin": origin}
                )  # fmt: skip
        return pid

    def _covers(self, names: Sequence[ProductName]) -> bool:
        return all(normalise(n.name) in self._prepared for n in names)

    def known(self, norms: set[str]) -> set[str]:
        """Which of these normalised names are aliases already (a cheap query)."""
        query = select(Alias.norm).where(col(Alias.norm).in_(norms))
        return set(self.session.exec(query))

    def flush(self) -> dict[int, int]:
        """Write new products and aliases; returns provisional id -> real id."""
        mapping: dict[int, int] = {}
        connection = self.session.connection()
        if self._new:
            # In name order (and aliases in norm order): two sources' polls writing the same
            # new names at once then wait for one another in one order, never in a deadlock.
            names = sorted(self._new)
            ids = self._ids(names)
            missing = [n for n in names if n not in ids]
            if missing:
                now = utcnow()
                # Another source's poll may create the same product at the same moment (two
                # daemons on PostgreSQL): the insert is an upsert, and the ids are read back.
                connection.execute(
                    _insert_new(connection.dialect.name, Product),
                    [{"name": n, "created_at": now} for n in missing],
                )
                ids |= self._ids(missing)
            mapping = {self._new[n]: ids[n] for n in names}
        if self._pending:
            for row in self._pending:
                row["product_id"] = mapping.get(row["product_id"], row["product_id"])
            self._pending.sort(key=lambda row: row["norm"])
            connection.execute(_insert_new(connection.dialect.name, Alias), self._pending)
        if mapping and self._aliases is not None:
            for norm, pid in self._aliases.items():
                if pid < 0:
                    self._aliases[norm] = mapping[pid]
        self._new.clear()
        self._pending = []
        return mapping

    def _ids(self, names: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(names), CHUNK):
            query = select(Product.name, Product.id).where(
                col(Product.name).in_(names[start : start + CHUNK])
            )
            found |= {name: pid for name, pid in self.session.exec(query) if pid is not None}
        return found
