"""Rate limits under real concurrency: how many guesses reach the password check (a 401 is a
checked password, a 429 one refused unchecked), who gets locked out, and how many argon2 runs
at once."""

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Literal, cast

import pytest
from argon2 import PasswordHasher, profiles
from fastapi import FastAPI

from tests.conftest import TEST_PASSWORD, https_client, new_address, new_email, sign_up_and_log_in

MakeApp = Callable[..., FastAPI]
WRONG_PASSWORD = "wrong password"


def _log_in_in_parallel(app: FastAPI, attempts: list[tuple[str, str, str]]) -> list[int]:
    """Each (address, e-mail, password) from its own client, all at once."""

    def log_in(attempt: tuple[str, str, str]) -> int:
        address, email, password = attempt
        response = https_client(app, address).post(
            "/accounts/login", json={"email": email, "password": password}
        )
        if response.status_code == 429:
            assert 0 < int(response.headers["retry-after"]) <= 300
        return response.status_code

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        return list(pool.map(log_in, attempts))


def _accounts(app: FastAPI, count: int) -> list[str]:
    return [sign_up_and_log_in(https_client(app)) for _ in range(count)]


def test_parallel_guesses_on_one_account_get_only_the_limit_checked(make_app: MakeApp) -> None:
    app = make_app(login_rate_limit_attempts=5)
    [email] = _accounts(app, 1)
    guesser = new_address()
    statuses = _log_in_in_parallel(app, [(guesser, email, WRONG_PASSWORD)] * 20)
    assert sorted(statuses) == [401] * 5 + [429] * 15


def test_a_spray_over_many_accounts_is_cut_off_by_the_address_limit(make_app: MakeApp) -> None:
    app = make_app(login_rate_limit_attempts=5, login_rate_limit_address_attempts=20)
    emails = _accounts(app, 10)
    sprayer = new_address()
    statuses = _log_in_in_parallel(app, [(sprayer, e, WRONG_PASSWORD) for e in emails * 5])
    assert sorted(statuses) == [401] * 20 + [429] * 30
    # The address is refused for any account now, even one it never tried, with its password.
    [untried] = _accounts(app, 1)
    assert _log_in_in_parallel(app, [(sprayer, untried, TEST_PASSWORD)]) == [429]


def test_the_owner_signs_in_from_elsewhere_while_the_guesser_is_locked_out(
    make_app: MakeApp,
) -> None:
    app = make_app(login_rate_limit_attempts=5)
    [email] = _accounts(app, 1)
    guesser = new_address()
    statuses = _log_in_in_parallel(app, [(guesser, email, WRONG_PASSWORD)] * 20)
    assert statuses.count(429) == 15
    assert _log_in_in_parallel(app, [(new_address(), email, TEST_PASSWORD)]) == [200]
    assert _log_in_in_parallel(app, [(guesser, email, TEST_PASSWORD)]) == [429]


def test_guesses_from_many_addresses_meet_the_account_backstop(make_app: MakeApp) -> None:
    app = make_app(login_rate_limit_account_attempts=10)
    [email] = _accounts(app, 1)
    guesses = [(new_address(), email, WRONG_PASSWORD) for _ in range(15)]
    statuses = _log_in_in_parallel(app, guesses)
    assert sorted(statuses) == [401] * 10 + [429] * 5


def test_successful_logins_do_not_use_up_the_address_limit(make_app: MakeApp) -> None:
    """An office behind one address: its members' logins that succeed are given back."""
    app = make_app(login_rate_limit_address_attempts=3)
    office = new_address()
    for email in _accounts(app, 6):
        assert _log_in_in_parallel(app, [(office, email, TEST_PASSWORD)]) == [200]


def test_sign_ups_beyond_the_address_limit_get_429(make_app: MakeApp) -> None:
    app = make_app(signup_rate_limit_attempts=3)
    address = new_address()

    def sign_up(_: int) -> tuple[int, str | None]:
        response = https_client(app, address).post(
            "/accounts/signup", json={"email": new_email(), "password": TEST_PASSWORD}
        )
        return response.status_code, response.headers.get("retry-after")

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(sign_up, range(10)))
    assert sorted(status for status, _ in results) == [201] * 3 + [429] * 7
    assert all(0 < int(after or 0) <= 600 for status, after in results if status == 429)
    other = https_client(app).post(
        "/accounts/signup", json={"email": new_email(), "password": TEST_PASSWORD}
    )
    assert other.status_code == 201


class _CountingHasher(PasswordHasher):
    """argon2 at the test cost, each run 50 ms longer so that concurrent requests overlap,
    recording the most runs at once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self._running = 0
        self.peak = 0

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        with self._counted():
            return super().hash(password, salt=salt)

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        with self._counted():
            return super().verify(hash, password)

    @contextmanager
    def _counted(self) -> Iterator[None]:
        with self._lock:
            self._running += 1
            self.peak = max(self.peak, self._running)
        try:
            time.sleep(0.05)
            yield
        finally:
            with self._lock:
                self._running -= 1


def test_concurrent_sign_ups_and_logins_hash_at_most_n_at_once(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the bound, as many run at once as the default thread pool has threads."""
    app = make_app(password_hashing_concurrency=2)
    emails = _accounts(app, 10)

    def sign_up(_: int) -> int:
        return (
            https_client(app)
            .post("/accounts/signup", json={"email": new_email(), "password": TEST_PASSWORD})
            .status_code
        )

    hasher = cast(_CountingHasher, _CountingHasher.from_parameters(profiles.CHEAPEST))
    monkeypatch.setattr(app.state.services.passwords, "hasher", hasher)
    with ThreadPoolExecutor(max_workers=20) as pool:
        signing_up = pool.map(sign_up, range(20))
        logging_in = _log_in_in_parallel(app, [(new_address(), e, TEST_PASSWORD) for e in emails])
        assert list(signing_up) == [201] * 20
    assert logging_in == [200] * 10
    assert hasher.peak == 2
