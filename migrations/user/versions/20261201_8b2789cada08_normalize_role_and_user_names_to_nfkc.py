"""normalize role names and users' first and last names to NFKC, and recompute the role keys

Names are stored in Unicode NFKC form and compared by its lower-cased key (kernel.contracts.text), so that
`Café` written with a combining accent, or with fullwidth letters, is the name `Café`. Rows written before
keep their spelling otherwise; this brings them to that form. The rule is copied here, not imported, so the
revision means the same whatever the code does later.

A role whose normalized key another role already holds (two names that only looked alike) is left as it is
and named in a warning: rename one of them. So is a name that NFKC would make longer than its column.

Revision ID: 8b2789cada08
Revises: d2b84f6a9c31
Create Date: 2026-12-01 11:55:09.000000
"""

import logging
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8b2789cada08"
down_revision: str | None = "d2b84f6a9c31"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("freightdesk.migrations")
NAME_LENGTH = 50


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _normalize_roles(bind: sa.Connection) -> None:
    roles = sa.table(
        "roles", sa.column("id", sa.Integer), sa.column("name", sa.String), sa.column("name_key", sa.String)
    )
    rows = bind.execute(sa.select(roles.c.id, roles.c.name, roles.c.name_key).order_by(roles.c.id)).all()
    taken = {row.name_key for row in rows}
    for row in rows:
        name = _nfkc(row.name)
        key = name.lower()
        if (name, key) == (row.name, row.name_key):
            continue
        if key != row.name_key and key in taken:
            log.warning("role %s (%r) looks like another role's name; left as it is, rename one", row.id, row.name)
            continue
        if len(name) > NAME_LENGTH:
            log.warning("role %s (%r) is too long in NFKC form; left as it is", row.id, row.name)
            continue
        bind.execute(sa.update(roles).where(roles.c.id == row.id).values(name=name, name_key=key))
        taken.discard(row.name_key)
        taken.add(key)


def _normalize_users(bind: sa.Connection) -> None:
    users = sa.table(
        "users", sa.column("id", sa.Integer), sa.column("first_name", sa.String), sa.column("last_name", sa.String)
    )
    rows = bind.execute(sa.select(users.c.id, users.c.first_name, users.c.last_name).order_by(users.c.id)).all()
    for row in rows:
        first, last = _nfkc(row.first_name), _nfkc(row.last_name)
        if (first, last) == (row.first_name, row.last_name):
            continue
        if max(len(first), len(last)) > NAME_LENGTH:
            log.warning("user %s: a name is too long in NFKC form; left as it is", row.id)
            continue
        bind.execute(sa.update(users).where(users.c.id == row.id).values(first_name=first, last_name=last))


def upgrade() -> None:
    bind = op.get_bind()
    _normalize_roles(bind)
    _normalize_users(bind)


def downgrade() -> None:
    pass  # normalized names are valid names before this revision too
