"""Signing in to the admin web app: argon2id passwords, lockout after repeated failures,
server-side sessions behind a secure cookie, a CSRF token per session, and what each role
may do. A user of one tenant who reaches another tenant's page gets 404, as if it did not
exist."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from admin.i18n import N_, _
from admin.tables import ROLES, password_resets, sessions, users
from services_common.sql import utcnow

HASHER = PasswordHasher()
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD_CHARS = 10
# Verified when the email is unknown, so that a wrong email takes as long as a wrong password.
_DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(16))
EDITORS = ("superadmin", "owner", "manager")


class LoginRefused(Exception):
    """Wrong email or password, or a locked account; the message is safe to show."""


class UserProblem(ValueError):
    """A user that cannot be created as asked."""


@dataclass(frozen=True)
class Viewer:
    """The signed-in person behind a request."""

    user_id: int
    email: str
    role: str
    tenant: str | None
    csrf_token: str
    staff_id: int | None = None  # a staff login's own person in the booking service
    language: str | None = None  # the web app's language they chose (None: the business's)

    @property
    def own_calendar_only(self) -> bool:
        """Staff see only their own bookings (and none until their login is linked to a person)."""
        return self.role == "staff"

    @property
    def own_person(self) -> int | None:
        """Whose bookings the viewer may see: None for everyone's; a staff login only its own
        person's (-1 while the login is not linked to a person: nobody's)."""
        if not self.own_calendar_only:
            return None
        return self.staff_id if self.staff_id is not None else -1

    @property
    def sees_business_figures(self) -> bool:
        """Usage, alert settings, the audit log of others and business-wide counts."""
        return self.role != "staff"

    def may_see(self, tenant: str) -> bool:
        return self.role == "superadmin" or self.tenant == tenant

    @property
    def is_owner(self) -> bool:
        """Manage the team and answer customers' data requests (the business's owner, or a
        superadmin)."""
        return self.role in ("superadmin", "owner")

    @property
    def may_edit(self) -> bool:
        """Change the business's texts, tone and catalog (staff only read them)."""
        return self.role in EDITORS


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_user(
    engine: AsyncEngine,
    email: str,
    password: str,
    role: str,
    tenant: str | None,
    staff_id: int | None = None,
) -> int:
    email = email.strip().lower()
    if "@" not in email:
        raise UserProblem(_("%(email)r is not an email address", email=email))
    if role not in ROLES:
        raise UserProblem(_("the role must be one of %(roles)s", roles=", ".join(ROLES)))
    if (role == "superadmin") != (tenant is None):
        raise UserProblem(_("a superadmin has no tenant; every other role needs one"))
    if len(password) < MIN_PASSWORD_CHARS:
        raise UserProblem(
            _("the password needs at least %(chars)s characters", chars=MIN_PASSWORD_CHARS)
        )
    try:
        async with engine.begin() as conn:
            result = await conn.execute(
                insert(users).values(
                    email=email,
                    password_hash=await hash_password(password),
                    role=role,
                    tenant=tenant,
                    staff_id=staff_id,
                    created_at=utcnow(),
                )
            )
            return int(result.inserted_primary_key[0])
    except IntegrityError:
        raise UserProblem(_("a user %(email)s exists already", email=email)) from None


async def sign_in(engine: AsyncEngine, email: str, password: str) -> tuple[str, Viewer]:
    """A new session token for the user, or `LoginRefused`; failures count toward a lockout
    (recorded in their own transaction, which the refusal must not roll back)."""
    now = utcnow()
    refusal: str | None = None
    async with engine.connect() as conn:
        row = (
            (await conn.execute(select(users).where(users.c.email == email.strip().lower())))
            .mappings()
            .first()
        )
    # the ~100 ms of argon2 run in a worker thread, outside any transaction, so that a burst
    # of sign-ins never stalls the event loop that serves every tenant's texts
    matches = await verify_password(
        row["password_hash"] if row is not None else _DUMMY_HASH, password
    )
    async with engine.begin() as conn:
        if row is None:
            refusal = N_("wrong email or password")
        elif row["locked_until"] and row["locked_until"] > now:
            refusal = N_("too many failed attempts: this account is locked for a few minutes")
        elif not matches:
            failures = (
                users.c.failed_logins + 1
            )  # counted in the database: concurrent failures all count
            locked = now + LOCKOUT
            counted = (
                await conn.execute(
                    update(users)
                    .where(users.c.id == row["id"])
                    .values(failed_logins=failures)
                    .returning(users.c.failed_logins)
                )
            ).scalar_one()
            if counted >= MAX_FAILURES:
                await conn.execute(
                    update(users)
                    .where(users.c.id == row["id"])
                    .values(failed_logins=0, locked_until=locked)
                )
            else:
                locked = None
            refusal = (
                N_("too many failed attempts: this account is locked for a few minutes")
                if locked
                else N_("wrong email or password")
            )
        else:
            token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            await conn.execute(
                update(users)
                .where(users.c.id == row["id"])
                .values(failed_logins=0, locked_until=None, last_login_at=now)
            )
            await conn.execute(
                insert(sessions).values(
                    token_hash=token_hash(token),
                    user_id=row["id"],
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=now + SESSION_LIFETIME,
                )
            )
    if refusal is not None or row is None:
        raise LoginRefused(refusal or "wrong email or password")
    return token, Viewer(
        row["id"], row["email"], row["role"], row["tenant"], csrf, row["staff_id"], row["language"]
    )


def _verify(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _yield_the_cpu() -> None:
    """The password thread runs at the lowest CPU priority (Linux sets it per thread), so that
    on a busy machine customers' replies come before owners' sign-ins."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


# One thread for all argon2 work: a storm of sign-ins queues here instead of taking every core
# (measured by bench/login_storm.py: 20 owners signing in made customers' replies 7x slower).
_PASSWORDS = ThreadPoolExecutor(
    max_workers=1, thread_name_prefix="argon2", initializer=_yield_the_cpu
)


async def verify_password(stored: str, password: str) -> bool:
    """argon2 verification off the event loop (it takes about 100 ms of CPU)."""
    return await asyncio.get_running_loop().run_in_executor(_PASSWORDS, _verify, stored, password)


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_PASSWORDS, HASHER.hash, password)


async def viewer_for(engine: AsyncEngine, token: str | None) -> Viewer | None:
    """The signed-in user of a session cookie, if the session is live."""
    if not token:
        return None
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(
                    users.c.id,
                    users.c.email,
                    users.c.role,
                    users.c.tenant,
                    users.c.staff_id,
                    users.c.language,
                    sessions.c.csrf_token,
                    sessions.c.expires_at,
                )
                .join(sessions, sessions.c.user_id == users.c.id)
                .where(sessions.c.token_hash == token_hash(token))
            )
        ).first()
    if row is None or row.expires_at <= utcnow():
        return None
    return Viewer(
        row.id, row.email, row.role, row.tenant, row.csrf_token, row.staff_id, row.language
    )


async def sign_out(engine: AsyncEngine, token: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(delete(sessions).where(sessions.c.token_hash == token_hash(token)))


def csrf_ok(viewer: Viewer, sent: Any) -> bool:
    return isinstance(sent, str) and hmac.compare_digest(sent.encode(), viewer.csrf_token.encode())


RESET_LIFETIME = timedelta(hours=1)


async def start_password_reset(
    engine: AsyncEngine, email: str, lifetime: timedelta = RESET_LIFETIME
) -> str | None:
    """A reset token for the account with this email (None when there is none); an
    invitation to a new login uses the same link with a longer lifetime."""
    async with engine.begin() as conn:
        user_id = (
            await conn.execute(select(users.c.id).where(users.c.email == email.strip().lower()))
        ).scalar()
        if user_id is None:
            return None
        token = secrets.token_urlsafe(32)
        await conn.execute(
            insert(password_resets).values(
                token_hash=token_hash(token), user_id=user_id, expires_at=utcnow() + lifetime
            )
        )
    return token


async def finish_password_reset(engine: AsyncEngine, token: str, password: str) -> None:
    """Set the new password, unlock the account, end its sessions and spend the link."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise UserProblem(
            _("the password needs at least %(chars)s characters", chars=MIN_PASSWORD_CHARS)
        )
    new_hash = await hash_password(password)
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                select(password_resets).where(password_resets.c.token_hash == token_hash(token))
            )
        ).first()
        if row is None or row.expires_at <= utcnow():
            raise UserProblem(_("this link has expired or was used already; ask for a new one"))
        await conn.execute(delete(password_resets).where(password_resets.c.user_id == row.user_id))
        await conn.execute(
            update(users)
            .where(users.c.id == row.user_id)
            .values(password_hash=new_hash, failed_logins=0, locked_until=None)
        )
        await conn.execute(delete(sessions).where(sessions.c.user_id == row.user_id))
