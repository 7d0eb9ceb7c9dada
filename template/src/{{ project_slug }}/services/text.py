"""Text that PostgreSQL can store: its text type has no NUL character, and a NUL in a query
parameter fails the statement. Every request field that reaches a text column is `PgText`, so such
input is refused as invalid (422) at the boundary, and the schema says so."""

from typing import Annotated

from pydantic import Field

PgText = Annotated[str, Field(pattern=r"^[^\x00]*$")]
