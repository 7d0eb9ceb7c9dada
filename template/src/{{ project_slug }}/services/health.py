"""Readiness: can this process serve traffic right now, i.e. are its dependencies reachable?"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

logger = logging.getLogger(__name__)

Check = Callable[[], Awaitable[object]]
# A dependency that has not answered by then counts as failing: the probe itself must answer
# well within the platform's probe timeout, whatever hangs.
CHECK_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, str]  # dependency -> "ok" or the kind of failure

    @property
    def failing(self) -> list[str]:
        return [name for name, outcome in self.checks.items() if outcome != "ok"]


async def _outcome(name: str, check: Check) -> str:
    try:
        await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
    except Exception as error:
        # The details go to the log only: the probe's answer may be seen by anyone.
        logger.warning("readiness check failed", extra={"dependency": name}, exc_info=True)
        return f"failed: {type(error).__name__}"
    return "ok"


async def check_readiness(checks: Mapping[str, Check]) -> Readiness:
    """Run every check at once, so one report names all failing dependencies, not just the first."""
    outcomes = await asyncio.gather(*(_outcome(name, check) for name, check in checks.items()))
    return Readiness(dict(zip(checks, outcomes, strict=True)))
