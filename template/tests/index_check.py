"""Index hygiene: every query the test suite sends must be servable by an index.

While the suite runs, each SELECT, UPDATE and DELETE sent to the test database is recorded. At the
end each one is EXPLAINed with sequential scans and sorts disabled, so the planner picks an index
whenever one can serve the filter and the order. A plan that still reads an application table
with a Seq Scan, or sorts its rows, is a query that gets slow as the table grows: the suite fails
naming the query, the table and the columns the missing index needs. No maintained library does
this, hence this module.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

Statements = dict[str, Any]  # SQL text -> the parameters of its first execution
_CHECKED_VERBS = ("SELECT", "WITH", "UPDATE", "DELETE")
_SORT_NODES = ("Sort", "Incremental Sort")


@contextmanager
def record_statements(database_name: str) -> Iterator[Statements]:
    """Record the distinct statements any engine in this process sends to `database_name`."""
    statements: Statements = {}

    def record(
        connection: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        checked = statement.lstrip().upper().startswith(_CHECKED_VERBS)
        if checked and not executemany and connection.engine.url.database == database_name:
            statements.setdefault(statement, parameters)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _scanned_tables(plan: dict[str, Any]) -> set[str]:
    return {node["Relation Name"] for node in _nodes(plan) if "Relation Name" in node}


def _problems(plan: dict[str, Any], tables: set[str]) -> list[str]:
    problems = []
    for node in _nodes(plan):
        table = node.get("Relation Name")
        if node["Node Type"] == "Seq Scan" and table in tables:
            condition = node.get("Filter", "no condition: every row is read")
            problems.append(
                f"Seq Scan on {table} ({condition}): add an index on {table} "
                "whose leading columns are the ones filtered on"
            )
        if node["Node Type"] in _SORT_NODES and _scanned_tables(node) & tables:
            keys = ", ".join(node["Sort Key"])
            sorted_tables = ", ".join(sorted(_scanned_tables(node) & tables))
            problems.append(
                f"{node['Node Type']} by {keys}: add an index on {sorted_tables} that ends with "
                "these columns in this order, after the equality-filtered ones"
            )
    return problems


def report_unindexed(url: URL, statements: Statements, tables: set[str]) -> str:
    """A failure report for every statement whose plan scans or sorts an application table
    or one of the database's materialized views (read like tables, and as large)."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    findings: list[str] = []
    with engine.connect() as connection:
        views = connection.exec_driver_sql("SELECT matviewname FROM pg_matviews").scalars()
        tables = tables | set(views)
        # Disabled plan types are still used when nothing else can answer the query.
        connection.exec_driver_sql("SET enable_seqscan = off")
        connection.exec_driver_sql("SET enable_sort = off")
        for statement, parameters in statements.items():
            result = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
            raw_plan = result.scalar_one()
            plan = (json.loads(raw_plan) if isinstance(raw_plan, str) else raw_plan)[0]["Plan"]
            findings.extend(
                f"{problem}\n    query: {' '.join(statement.split())}"
                for problem in _problems(plan, tables)
            )
    engine.dispose()
    if not findings:
        return ""
    return "Queries that no index serves (index check, tests/index_check.py):\n  " + "\n  ".join(
        findings
    )
