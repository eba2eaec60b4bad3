"""Accounts and users: creation, authentication, roles. Views and the CLI call these."""
from __future__ import annotations

import datetime
import hashlib
import itertools
import math
import re
import secrets

from peewee import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from .db import database
from .models import ROLES, Account, LoginAttempt, LoginSession, User, utcnow
from .prepared import Prepared, slot

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10
#: Failed password checks of one e-mail from one address that cost nothing; after
#: them each failure doubles the wait, from FIRST_DELAY up to MAX_DELAY.
FREE_FAILURES = 3
FIRST_DELAY = datetime.timedelta(seconds=15)
MAX_DELAY = datetime.timedelta(minutes=15)
#: Failures of a pair count this long (or until its next success).
PAIR_WINDOW = datetime.timedelta(hours=1)
#: Failures per address (any e-mail) within ADDRESS_WINDOW before that address pauses.
#: High, because a whole team behind one reverse proxy shares an address.
ADDRESS_LIMIT = 300
ADDRESS_WINDOW = datetime.timedelta(minutes=15)
#: How long a login lasts at most; its remember-me cookie lasts as long.
LOGIN_LIFETIME = datetime.timedelta(days=30)
# The hash of a random password: verified against when the e-mail is unknown, so an
# unknown address costs the same time as a known one and cannot be told apart.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


class AccountError(ValueError):
    """A request about accounts or users cannot be done; the message says why."""


class TooManyAttempts(AccountError):
    """Password checks (logins, password changes) of this e-mail from this address, or
    from this address at all, are paused for ``retry_in`` seconds."""

    def __init__(self, retry_in: int):
        if retry_in < 60:
            wait = f"{retry_in} second{'s' * (retry_in != 1)}"
        else:
            minutes = round(retry_in / 60)
            wait = f"{minutes} minute{'s' * (minutes > 1)}"
        super().__init__(f"Too many failed attempts. Try again in {wait}.")
        self.retry_in = retry_in


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def check_email(email: str) -> str:
    """Return the normalized e-mail or raise AccountError."""
    email = normalize_email(email)
    if not email:
        raise AccountError("Enter an e-mail address.")
    if len(email) > 254 or not EMAIL.match(email):
        raise AccountError(f"{email[:80]!r} is not a valid e-mail address.")
    return email


def check_password(password: str, email: str = "") -> None:
    """Raise AccountError for a weak password (too short, one repeated character, the e-mail)."""
    password = password or ""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"The password must be at least {MIN_PASSWORD} characters long.")
    if len(set(password)) < 4:
        raise AccountError("The password is too simple: use more different characters.")
    name = normalize_email(email).split("@")[0]
    if len(name) >= 4 and name in password.lower():
        raise AccountError("The password must not contain your e-mail name.")
    if len(password) > 1024:
        raise AccountError("The password must be at most 1024 characters long.")


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"Unknown role {str(role)[:40]!r}: choose admin or member.")
    return role


def create_account(name: str) -> Account:
    name = (name or "").strip()
    if not name:
        raise AccountError("Enter an account name.")
    if len(name) > 120:
        raise AccountError("The account name must be at most 120 characters long.")
    return Account.create(name=name)


def create_user(account: Account, email: str, password: str, role: str = "member") -> User:
    """Create a user in ``account``; e-mails are unique across the installation."""
    email = check_email(email)
    check_password(password, email)
    check_role(role)
    taken = AccountError(f"A user with the e-mail {email} already exists.")
    try:
        with database.atomic():
            if User.select().where(User.email == email).exists():
                raise taken
            return User.create(
                account=account, email=email, password_hash=generate_password_hash(password), role=role
            )
    except IntegrityError:  # created by a concurrent request a moment ago
        raise taken from None


def ensure_first_admin(email: str | None, password: str | None, account_name: str = "My team"):
    """Create the first account and admin when the database has no user yet.

    Returns ``(user, generated_password)`` when one was created (the password is None
    when it was given), or None when users exist already.
    """
    if User.select().exists():
        return None
    generated = None
    if not password:
        generated = password = secrets.token_urlsafe(12)
    email = email or "admin@example.com"
    with database.atomic():
        account = create_account(account_name)
        user = create_user(account, email, password, role="admin")
    return user, generated


def authenticate(email: str, password: str, ip: str) -> User:
    """Return the user for valid credentials; raise AccountError or TooManyAttempts."""
    email = normalize_email(email)
    if not email or not password:
        raise AccountError("Enter your e-mail address and password.")
    user = User.get_or_none(User.email == email)
    if not verify_password(email, user, password, ip):
        # One message for both cases, so the form does not reveal which e-mails exist.
        raise AccountError("Wrong e-mail address or password.")
    User.update(last_login_at=utcnow()).where(User.id == user.id).execute()
    return user


def verify_password(email: str, user: User | None, password: str, ip: str) -> bool:
    """Check ``password`` of ``user`` (None: ``email`` is unknown) and record the attempt.

    Every password check goes through here, so logins and password changes share one
    throttle; raises TooManyAttempts (before checking anything) while it applies.
    """
    check_throttle(email, ip)
    valid = check_password_hash(user.password_hash if user else _DUMMY_HASH, (password or "")[:1024])
    succeeded = bool(user and valid)
    LoginAttempt.create(email=email, ip=ip, succeeded=succeeded)
    return succeeded


def check_throttle(email: str, ip: str) -> None:
    """Raise TooManyAttempts while password checks of ``email`` from ``ip`` must wait.

    Per e-mail *and* address, with a delay that grows with each failure: someone
    guessing elsewhere cannot lock the real person out, and people behind one reverse
    proxy do not share a penalty. An address trying many e-mails meets ADDRESS_LIMIT.
    """
    now = utcnow()
    recent = (LoginAttempt.select(LoginAttempt.created_at, LoginAttempt.succeeded)
              .where(LoginAttempt.email == email, LoginAttempt.ip == ip, LoginAttempt.created_at > now - PAIR_WINDOW)
              .order_by(LoginAttempt.created_at.desc(), LoginAttempt.id.desc())
              .limit(FREE_FAILURES + 10))  # enough failures to reach MAX_DELAY
    failures = list(itertools.takewhile(lambda attempt: not attempt.succeeded, recent))
    if len(failures) >= FREE_FAILURES:
        delay = min(FIRST_DELAY * 2 ** (len(failures) - FREE_FAILURES), MAX_DELAY)
        _refuse_until(failures[0].created_at + delay, now)
    by_address = LoginAttempt.select(LoginAttempt.created_at).where(
        LoginAttempt.ip == ip, LoginAttempt.succeeded == False,  # noqa: E712
        LoginAttempt.created_at > now - ADDRESS_WINDOW)
    excess = by_address.count() - ADDRESS_LIMIT
    if excess >= 0:
        # The address may try again once enough of its failures have left the window.
        freed = by_address.order_by(LoginAttempt.created_at).offset(excess).first()  # get() drops offsets
        _refuse_until(freed.created_at + ADDRESS_WINDOW, now)


def _refuse_until(moment: datetime.datetime, now: datetime.datetime) -> None:
    if moment > now:
        raise TooManyAttempts(math.ceil((moment - now).total_seconds()))


def users_of(account: Account):
    """The users of ``account``, admins first."""
    return User.select().where(User.account == account).order_by(User.role, User.email)


def get_user(account: Account, user_id) -> User:
    """A user of ``account`` by id; raises AccountError for ids of other accounts."""
    user = User.get_or_none((User.id == user_id) & (User.account == account))
    if user is None:
        raise AccountError("No such user in this account.")
    return user


def _admins_left(account: Account, without: User) -> int:
    return User.select().where(User.account == account, User.role == "admin", User.id != without.id).count()


def change_role(account: Account, user_id, role: str) -> User:
    """Change a user's role; the last admin of an account cannot be demoted."""
    check_role(role)
    with database.atomic():
        user = get_user(account, user_id)
        if user.role == "admin" and role != "admin" and _admins_left(account, user) == 0:
            raise AccountError("The last admin cannot be demoted: make another user admin first.")
        user.role = role
        user.save()
    return user


def remove_user(account: Account, user_id) -> str:
    """Remove a user; the last admin of an account cannot be removed. Returns the e-mail."""
    with database.atomic():
        user = get_user(account, user_id)
        if user.role == "admin" and _admins_left(account, user) == 0:
            raise AccountError("The last admin cannot be removed: make another user admin first.")
        user.delete_instance()
    return user.email


def change_password(user: User, current: str, new: str, ip: str) -> None:
    """Change a user's own password after checking the current one (throttled like
    logins: a stolen session must not become a way to guess the password)."""
    if not verify_password(user.email, user, current, ip):
        raise AccountError("The current password is wrong.")
    check_password(new, user.email)
    with database.atomic():
        user.password_hash = generate_password_hash(new)
        user.save()
        # Whoever knew the old password may hold a session: only this one stays.
        end_logins(user, keep_current=True)


def reset_password(email: str, new: str | None = None) -> tuple[User, str]:
    """Set a new password for ``email`` (generated when ``new`` is None) and end all its
    logins: the way back in for an admin who lost theirs. Returns the user and the
    password (to show once)."""
    user = User.get_or_none(User.email == normalize_email(email))
    if user is None:
        raise AccountError(f"There is no user with the e-mail {normalize_email(email)[:80]}.")
    new = new or secrets.token_urlsafe(12)
    check_password(new, user.email)
    with database.atomic():
        user.password_hash = generate_password_hash(new)
        user.save()
        end_logins(user)
    return user, new


def start_login(user: User) -> User:
    """Open a new login of ``user`` and return the user carrying its token, for
    flask-login's login_user (the token ends up in the session and remember-me cookies)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with database.atomic():
        # Expired logins are of no use to anyone: tidy them while we are here.
        LoginSession.delete().where(LoginSession.user == user, LoginSession.expires_at <= now).execute()
        LoginSession.create(user=user, token_hash=_token_hash(token), created_at=now, expires_at=now + LOGIN_LIFETIME)
    user.login_token = token
    return user


#: Every request's first query: the account comes in it too (every page reads
#: current_user.account), and its SQL is built once (webapp/prepared.py).
_LIVE_LOGIN = Prepared(lambda: LoginSession.select(LoginSession, User, Account).join(User).join(Account)
                       .where(LoginSession.token_hash == slot("token_hash"), LoginSession.expires_at > slot("now"))
                       .limit(1))


def user_of_login(login_id: str) -> User | None:
    """The user of a live login, from flask-login's ``"<user id>:<token>"``; None for a
    login that was ended or expired, an id of the old form (just the user id) or a forged one."""
    user_id, _, token = (login_id or "").partition(":")
    if not token or not user_id.isdigit():
        return None
    login = _LIVE_LOGIN.first(token_hash=_token_hash(token), now=utcnow())
    # Compared here, not in SQL: an over-long id would overflow PostgreSQL's integer.
    if login is None or str(login.user.id) != user_id:
        return None
    login.user.login_token = token
    return login.user


def end_login(user: User) -> None:
    """End the login ``user`` was loaded for: its session cookie and remember-me cookie
    stop working, wherever they were copied to."""
    if user.login_token:
        LoginSession.delete().where(LoginSession.token_hash == _token_hash(user.login_token)).execute()


def end_logins(user: User, keep_current: bool = False) -> int:
    """End every login of ``user`` ("log out everywhere"), but the one it was loaded
    for when ``keep_current``; returns how many were ended."""
    query = LoginSession.delete().where(LoginSession.user == user.id)
    if keep_current and user.login_token:
        query = query.where(LoginSession.token_hash != _token_hash(user.login_token))
    return query.execute()


def _token_hash(token: str) -> str:
    # A random 256-bit token needs no salt or slow hash; looking it up by its SHA-256
    # reveals nothing through timing either, as nobody can choose a hash's prefix.
    return hashlib.sha256(token.encode()).hexdigest()
