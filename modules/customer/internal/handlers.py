"""Following the users (docs/api.md §5): every user has one customer profile, created for them or linked by
email when the user is created; it follows the user's email and names, and is unlinked (kept) when the user
is deleted.

Each handler runs in the inbox's transaction (it does not commit) and reads the user through the user
module's `UserAccounts`, never its tables. "Exactly one" holds because the email and the user id are unique
keys: redelivery finds the customer already linked, and a concurrent manual `POST /customers` with the same
email either commits first (the handler's insert fails on the key and links that customer instead) or waits
for the handler and gets 409.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.db.locking import get_locked
from kernel.db.read_cache import ReadCache
from kernel.events.envelope import EventEnvelope
from kernel.events.transport import Subscription
from modules.customer.internal.models import Customer
from modules.customer.internal.reads import email_key
from modules.customer.internal.service import CustomerRules, CustomerService, conflict_of
from modules.user.api import UserAccounts, UserView
from modules.user.events import UserCreated, UserDeleted, UserUpdated

log = logging.getLogger("freightdesk.customer")

FOLLOWED = {"email": "email", "firstName": "first_name", "lastName": "last_name"}
"""The user fields (wire names, as `user.updated` names them) a linked customer follows → its attributes."""


class UserEventHandlers:
    def __init__(self, users: UserAccounts, rules: CustomerRules, reads: ReadCache) -> None:
        self.users = users
        self.rules = rules
        self.reads = reads

    async def on_user_created(self, session: AsyncSession, event: UserCreated, envelope: EventEnvelope) -> None:
        """Create the user's customer, or link the customer that has their email; once, however often and
        however late the event arrives (the user as it is now, not as the event saw it)."""
        user = await self.users.get_user(event.user_id)
        if user is None:
            return  # deleted before we heard of it: there is no one to follow
        if await session.scalar(select(Customer.id).where(Customer.user_id == user.id)) is not None:
            return  # linked already
        service = CustomerService(session, self.rules, self.reads)
        if await self._link_by_email(service, user):
            return
        customer = Customer(
            user_id=user.id,
            email=email_key(user.email),
            first_name=user.first_name,
            last_name=user.last_name,
            phone=user.phone,
            is_active=True,
        )
        try:
            async with session.begin_nested():
                session.add(customer)
                await session.flush()
        except IntegrityError as exc:
            if conflict_of(exc) is None:
                raise
            # A concurrent writer committed a customer with this email (or this user) since we looked: link it.
            await self._link_by_email(service, user)
            return
        await service.announce_created(customer)

    async def on_user_updated(self, session: AsyncSession, event: UserUpdated, envelope: EventEnvelope) -> None:
        """The linked customer takes the user's current email and names, for the fields the event names."""
        followed = [FOLLOWED[field] for field in event.changes if field in FOLLOWED]
        if not followed:
            return
        customer = await get_locked(session, Customer, Customer.user_id == event.user_id)
        if customer is None:
            return
        user = await self.users.get_user(event.user_id)
        if user is None:
            return  # deleted meanwhile; user.deleted unlinks the customer
        current = {"email": email_key(user.email), "first_name": user.first_name, "last_name": user.last_name}
        changes: dict[str, Any] = {name: current[name] for name in followed}
        if "email" in changes and changes["email"] != customer.email and await self._email_taken(session, changes):
            log.warning(
                "linked customer keeps its email: another customer has the user's new one",
                extra={"customer_id": customer.id, "user_id": user.id},
            )
            del changes["email"]
        await CustomerService(session, self.rules, self.reads).change(customer, changes)

    async def on_user_deleted(self, session: AsyncSession, event: UserDeleted, envelope: EventEnvelope) -> None:
        """The customer stays; it just no longer belongs to a user."""
        customer = await get_locked(session, Customer, Customer.user_id == event.user_id)
        if customer is not None:
            await CustomerService(session, self.rules, self.reads).change(customer, {"user_id": None})

    async def _link_by_email(self, service: CustomerService, user: UserView) -> bool:
        """Link the customer with the user's email to the user; False when there is none."""
        customer = await get_locked(service.session, Customer, Customer.email == email_key(user.email))
        if customer is None:
            return False
        if customer.user_id is None:
            await service.change(customer, {"user_id": user.id})
        elif customer.user_id != user.id:
            log.warning(
                "customer with the new user's email belongs to another user; left as it is",
                extra={"customer_id": customer.id, "user_id": user.id},
            )
        return True

    async def _email_taken(self, session: AsyncSession, changes: dict[str, Any]) -> bool:
        return await session.scalar(select(Customer.id).where(Customer.email == changes["email"])) is not None

    def subscriptions(self) -> list[Subscription]:
        return [
            Subscription(UserCreated, self.on_user_created),
            Subscription(UserUpdated, self.on_user_updated),
            Subscription(UserDeleted, self.on_user_deleted),
        ]


SUBSCRIBES_TO = (UserCreated, UserUpdated, UserDeleted)
