"""normalize carrier names to NFKC and recompute their keys

Names are stored in Unicode NFKC form and compared by its lower-cased key (kernel.contracts.text), so that
`Café` written with a combining accent, or with fullwidth letters, is the name `Café`. Carriers written
before keep their spelling otherwise; this brings them to that form. The rule is copied here, not imported,
so the revision means the same whatever the code does later.

A carrier whose normalized key another carrier already holds (two names that only looked alike) is left as
it is and named in a warning: rename one of them. So is a name that NFKC would make longer than the column.

Revision ID: 12519c2a6e71
Revises: c7a91d2e4f10
Create Date: 2026-12-01 11:55:07.274594
"""

import logging
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "12519c2a6e71"
down_revision: str | None = "c7a91d2e4f10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("freightdesk.migrations")
NAME_LENGTH = 100


def upgrade() -> None:
    carriers = sa.table(
        "carriers", sa.column("id", sa.Integer), sa.column("name", sa.String), sa.column("name_key", sa.String)
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(carriers.c.id, carriers.c.name, carriers.c.name_key).order_by(carriers.c.id)).all()
    taken = {row.name_key for row in rows}
    for row in rows:
        name = unicodedata.normalize("NFKC", row.name).strip()
        key = name.lower()
        if (name, key) == (row.name, row.name_key):
            continue
        if key != row.name_key and key in taken:
            log.warning(
                "carrier %s (%r) looks like another carrier's name; left as it is, rename one", row.id, row.name
            )
            continue
        if len(name) > NAME_LENGTH:
            log.warning("carrier %s (%r) is too long in NFKC form; left as it is", row.id, row.name)
            continue
        bind.execute(sa.update(carriers).where(carriers.c.id == row.id).values(name=name, name_key=key))
        taken.discard(row.name_key)
        taken.add(key)


def downgrade() -> None:
    pass  # normalized names are valid names before this revision too
