"""metadata.yaml: the phase, its tickets, and the sessions its usage is measured from."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import (
    AwareDatetime,
    Field,
    field_validator,
    model_validator,
)

from pytest_orchphase.load.models.fields import Percent, StageName, Strict, TextId, Tokens, _text_id


class SessionSpec(Strict):
    """A session of the phase: by id (resolved under the Claude config folder) or by path.

    ``ticket`` (and ``stage``) give all of the session's usage to that ticket, for worker sessions
    run on their own (e.g. headless ``claude -p`` runs). ``lead: true`` names the lead session:
    its own calls are shared planning, its sub-agents are attributed by the execution log. Other
    main sessions are attributed as README "Measured usage" says.
    """

    session: str | None = None
    path: str | None = None
    ticket: TextId | None = None
    stage: StageName | None = None
    lead: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> SessionSpec:
        if (self.session is None) == (self.path is None):
            raise ValueError("give exactly one of `session` (an id) or `path`")
        if self.stage is not None and self.ticket is None:
            raise ValueError("`stage` needs `ticket`")
        if self.lead and self.ticket is not None:
            raise ValueError("the lead session plans for every ticket: give `lead` or `ticket`")
        return self


class Metadata(Strict):
    phase: str
    tickets: list[str] = Field(min_length=1)
    date: AwareDatetime | dt.date | None = None
    strategy: str | None = None
    expected_tokens: Tokens | None = None
    expected_savings: Percent | None = None
    baseline_comparison: Tokens | None = None
    batching_value: str | None = None
    hypothesis: list[str] = Field(default_factory=list)
    risk: str | None = None
    comparison: list[str] | dict[str, str] = Field(default_factory=list)
    sessions: list[str | SessionSpec] = Field(default_factory=list)
    models: dict[str, str] = Field(default_factory=dict)

    @field_validator("tickets", mode="before")
    @classmethod
    def _text_ids(cls, value: Any) -> Any:
        return [_text_id(v) for v in value] if isinstance(value, list) else value

    @field_validator("tickets")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        seen: set[str] = set()
        for ticket in value:
            if ticket in seen:
                raise ValueError(f"ticket {ticket!r} is listed twice")
            seen.add(ticket)
        return value
