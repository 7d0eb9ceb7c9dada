"""Readiness: can this process serve traffic right now, i.e. are its dependencies reachable?"""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

logger = logging.getLogger(__name__)

Check = Callable[[], object]


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, str]  # dependency -> "ok" or the kind of failure

    @property
    def failing(self) -> list[str]:
        return [name for name, outcome in self.checks.items() if outcome != "ok"]


def check_readiness(checks: Mapping[str, Check]) -> Readiness:
    """Run every check, so one report names all failing dependencies, not just the first."""
    outcomes: dict[str, str] = {}
    for name, check in checks.items():
        try:
            check()
        except Exception as error:
            # The details go to the log only: the probe's answer may be seen by anyone.
            logger.warning("readiness check failed", extra={"dependency": name}, exc_info=True)
            outcomes[name] = f"failed: {type(error).__name__}"
        else:
            outcomes[name] = "ok"
    return Readiness(outcomes)
