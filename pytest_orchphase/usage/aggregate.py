"""Sums of a scan's calls per model, per agent or per session, with their dollar cost."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_orchphase.usage.records import (
    TOKEN_FIELDS,
    AgentInfo,
    ApiCall,
    HeadlessResult,
    Scan,
)
from pytest_orchphase.usage.value import MEASURES, Usage

if TYPE_CHECKING:
    from pytest_orchphase.usage.pricing import PriceTable

MAIN_AGENT = "main"


@dataclass
class Totals:
    """Token sums, call count and cost of a group of calls."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    calls: int = 0
    #: Cost of the priced calls only.
    priced_usd: float = 0.0
    #: Calls whose model has no price: the group's cost is then unknown.
    unpriced_calls: int = 0
    models: list[str] = field(default_factory=list)
    unpriced_models: list[str] = field(default_factory=list)
    #: Why each of those calls has no cost (its model has no price, or its service tier).
    unpriced_why: list[str] = field(default_factory=list)
    #: Calls whose output count is a placeholder no record corrects (see ApiCall.output_exact).
    inexact_output_calls: int = 0
    #: Of those, the main session's (not a sub-agent's): responses whose final line is missing.
    inexact_main_calls: int = 0
    #: Of those, a headless result's tokens beyond its run's calls (not a response): short by
    #: what the calls it was weighed against hold of another run's.
    inexact_surplus: int = 0
    #: Why the priced cost may be below the bill (from calls priced from under-pricing sources).
    cost_lower_bound: list[str] = field(default_factory=list)
    #: Sub-agents counted by their last call alone, their earlier calls in no file read (see
    #: ``ApiCall.earlier_calls_unread``): every figure of the group is then a lower bound.
    partial_agents: int = 0
    #: Background sub-agents none of whose calls any file read holds (each counted by a stand-in
    #: of no tokens, ``ApiCall.stand_in``): every figure of the group is then a lower bound.
    unread_agents: int = 0

    def add(self, call: ApiCall, cost: float | None) -> None:
        if call.stand_in:  # no call, no tokens, no cost: only that the figures fall short
            self.unread_agents += 1
            return
        self.input_tokens += call.input_tokens
        self.output_tokens += call.output_tokens
        self.cache_creation_input_tokens += call.cache_creation_input_tokens
        self.cache_read_input_tokens += call.cache_read_input_tokens
        self.calls += 0 if call.surplus else 1
        self.partial_agents += call.earlier_calls_unread
        if not call.output_exact:
            self.inexact_output_calls += 1
            self.inexact_surplus += call.surplus
            self.inexact_main_calls += call.agent_id is None and not call.surplus
        if cost is None:
            self.unpriced_calls += 1
            why = call.tier_unknown or f"model {call.model!r} has no price"
            if why not in self.unpriced_why:
                self.unpriced_why.append(why)
            if call.model not in self.unpriced_models:
                self.unpriced_models.append(call.model)
        else:
            self.priced_usd += cost
            if call.tier_unknown and call.tier_unknown not in self.cost_lower_bound:
                self.cost_lower_bound.append(call.tier_unknown)
        if call.model not in self.models:
            self.models.append(call.model)

    @property
    def cost_usd(self) -> float | None:
        """``None`` when any call of the group has no price (never a silent $0)."""
        return None if self.unpriced_calls else self.priced_usd

    @property
    def output_lower_bound(self) -> bool:
        """True when the output count (and so the cost) is only a lower bound."""
        return self.inexact_output_calls > 0

    def lower_bound_notes(self) -> list[str]:
        notes = []
        agents = self.inexact_output_calls - self.inexact_main_calls - self.inexact_surplus
        if agents:
            notes.append(
                f"{agents} sub-agent call(s) record only a placeholder "
                "output count that no record read corrects"
            )
        if self.inexact_main_calls:
            notes.append(
                f"{self.inexact_main_calls} main-session response(s) record only a placeholder "
                "output count (their final line, with stop_reason, was never written)"
            )
        if self.inexact_surplus:
            notes.append(
                f"{self.inexact_surplus} headless result(s) add output beyond calls their "
                "modelUsage cannot be the whole of (another run of the session may be among them)"
            )
        if self.partial_agents:
            notes.append(
                f"{self.partial_agents} sub-agent(s) known only by their last call (the "
                "parent's toolUseResult.usage): their earlier calls are in no file read"
            )
        if self.unread_agents:
            notes.append(
                f"{self.unread_agents} background sub-agent(s) none of whose calls is in any "
                "file read"
            )
        return notes + self.cost_lower_bound

    def usage(self) -> Usage:
        """The group as a phase's measured usage (four token kinds, cost or why it is unknown;
        which figures are only lower bounds)."""
        bounds: set[str] = set()
        if self.output_lower_bound:
            bounds |= {"output", "total", "usd"}
        if self.cost_lower_bound:
            bounds.add("usd")
        if self.partial_agents or self.unread_agents:
            bounds |= MEASURES
        return Usage.measured(
            input=self.input_tokens,
            output=self.output_tokens,
            cache_write=self.cache_creation_input_tokens,
            cache_read=self.cache_read_input_tokens,
            usd=self.cost_usd,
            usd_note="; ".join(self.unpriced_why),
            lower_bounds=frozenset(bounds),
            lower_bound_note="; ".join(self.lower_bound_notes()),
        )

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: getattr(self, name) for name in TOKEN_FIELDS}
        cost = self.cost_usd
        out["cost_usd"] = None if cost is None else round(cost, 10)
        out["calls"] = self.calls
        out["lower_bounds"] = sorted(self.usage().lower_bounds)
        return out


Costed = list[tuple[ApiCall, "float | None"]]


def price_calls(scan: Scan, prices: PriceTable) -> Costed:
    """Each call with its cost (``None`` for an unknown model), computed once; a call whose cost
    may be below its bill is marked with why (see :meth:`PriceTable.priced`, and
    :func:`below_reported`)."""
    out: Costed = []
    for call in scan.calls:
        cost, call.tier_unknown = (0.0, "") if call.stand_in else prices.priced(call)
        out.append((call, cost))
    for runs in run_pools(scan.headless):
        below_reported(runs, out)
    return out


def run_pools(results: list[HeadlessResult]) -> list[list[HeadlessResult]]:
    """The headless results whose calls cannot be told apart, together: those of one file
    (runs appended to one stream, ``--resume`` among them) or of one session (read from its
    transcript too), each run once (a result read twice, from two copies, is one run)."""
    pools: list[tuple[set[object], list[HeadlessResult]]] = []
    for run in results:
        keys: set[object] = {run.path} | ({run.session_id} if run.session_id else set())
        joined = [pool for pool in pools if pool[0] & keys]
        merged: tuple[set[object], list[HeadlessResult]] = (keys, [])
        for pool in joined:
            merged[0].update(pool[0])
            merged[1].extend(pool[1])
            pools.remove(pool)
        if not any(_same_run(run, other) for other in merged[1]):
            merged[1].append(run)
        pools.append(merged)
    return [pool[1] for pool in pools]


def _same_run(one: HeadlessResult, other: HeadlessResult) -> bool:
    """Two results of one run (a copy of its file): all a run says of itself is alike."""
    from pytest_orchphase.usage.sources.headless.results import run_key

    return one.session_id == other.session_id and run_key(one) == run_key(other)


def below_reported(runs: list[HeadlessResult], costed: Costed) -> None:
    """Hold the cost of the calls of ``runs`` (a pool of :func:`run_pools`) to Claude Code's
    own figure of them (a model's ``costUSD``, a run's ``total_cost_usd``, summed over the
    runs) where it is above what they price to: compared once for the calls that cannot be
    told apart, never run by run against every one of them.

    Within :data:`~pytest_orchphase.usage.pricing.REPORTED_SLACK_USD` the two are one price,
    rounded apart: the calls' costs are raised to Claude Code's (in proportion), so that runs
    each a little above their price never add up to a sum below what they cost. Beyond it,
    Claude Code knows rates a run's record does not (its date, its requests' tiers): a price
    below what it says the run cost may be short of the bill, never shown exact. Claude Code's
    figure is not taken instead (builds are known to misprice, and one priced at rates since
    lowered would be above the bill): the priced figure stays, as a lower bound, saying why.
    The reverse (Claude Code below the price: older builds priced 1-hour cache writes at the
    5-minute rate) changes nothing."""
    from pytest_orchphase.usage.pricing import REPORTED_SLACK_USD

    # Their calls: those their files hold (a stream's messages, its modelUsage's sums), and
    # their sessions', read from their transcripts too.
    paths = {run.path for run in runs}
    sessions = {run.session_id for run in runs if run.session_id}
    mine = [
        i
        for i, (c, _) in enumerate(costed)
        if c.path in paths or (c.session_id is not None and c.session_id in sessions)
    ]
    where = ", ".join(sorted(map(str, paths)))
    its, it = ("its", "it") if len(runs) == 1 else (f"{len(runs)} runs'", "they")
    figures = [
        (
            f"{its} {model} calls cost",
            "costUSD",
            _summed([run.models[model].cost_usd for run in runs if model in run.models]),
            [i for i in mine if costed[i][0].model == model],
        )
        for model in dict.fromkeys(model for run in runs for model in run.models)
    ]
    # The whole figure, where no model's says it already.
    figures.append(
        (f"{it} cost", "total_cost_usd", _summed([r.total_cost_usd for r in runs]), mine)
    )
    flagged = False
    for what, field_name, reported, calls in figures:
        costs = [costed[i][1] for i in calls]
        if reported is None or not calls or None in costs or (flagged and calls is mine):
            continue  # nothing priced to compare (an unpriced model's cost is unknown anyway)
        priced = sum(cost for cost in costs if cost is not None)
        if reported <= priced:
            continue
        if reported <= priced + REPORTED_SLACK_USD:
            _raise_to(costed, calls, priced, reported)
            continue
        flagged = True
        why = (
            f"{where}: Claude Code says {what} ${reported:.4f} ({field_name}), above the "
            f"${priced:.4f} their tokens price to: a rate their record does not show was billed"
        )
        for i in calls:
            call = costed[i][0]
            call.tier_unknown = "; ".join(filter(None, (call.tier_unknown, why)))


def _summed(costs: list[float | None]) -> float | None:
    """The costs the runs say summed (None when none says one): at most what they cost, so a
    price below even that is short of the bill."""
    said = [cost for cost in costs if cost is not None]
    return sum(said) if said else None


def _raise_to(costed: Costed, calls: list[int], priced: float, reported: float) -> None:
    """The costs of ``costed[i]`` for ``i`` in ``calls`` (summing to ``priced``) raised to sum
    to ``reported``: each in proportion to its own, or (all priced at $0) the first."""
    for i in calls:
        call, cost = costed[i]
        assert cost is not None
        share = cost / priced if priced else float(i == calls[0])
        costed[i] = (call, cost + (reported - priced) * share)


def group(costed: Costed, key: Callable[[ApiCall], Hashable]) -> dict[Hashable, Totals]:
    out: dict[Hashable, Totals] = {}
    for call, cost in costed:
        out.setdefault(key(call), Totals()).add(call, cost)
    return out


def total(costed: Costed) -> Totals:
    out = Totals()
    for call, cost in costed:
        out.add(call, cost)
    return out


def by_model(costed: Costed) -> dict[str, Totals]:
    return {str(k): v for k, v in sorted(group(costed, lambda c: c.model).items())}


def by_session(costed: Costed) -> dict[str, Totals]:
    groups = group(costed, lambda c: c.session_id or "")
    return {str(k): v for k, v in sorted(groups.items(), key=lambda kv: str(kv[0]))}


@dataclass
class AgentRow:
    """One agent of one session (``agent_id`` "main" for the session itself)."""

    agent_id: str
    session_id: str | None
    totals: Totals
    info: AgentInfo | None
    compaction: bool

    def as_json(self) -> dict[str, Any]:
        info = self.info
        out: dict[str, Any] = {
            "agent_id": self.agent_id,
            "session_id": self.session_id,
            "tool_use_id": info.tool_use_id if info else None,
            "tool_name": info.tool_name if info else None,
            "subagent_type": info.subagent_type if info else None,
            "description": info.description if info else None,
            "requested_model": info.requested_model if info else None,
            "status": info.status if info else None,
            "background": info.background if info else False,
            "resolved_model": info.resolved_model if info else None,
            "compaction": self.compaction,
            "models": list(self.totals.models),
        }
        out.update(self.totals.as_json())
        return out


def by_agent(costed: Costed, scan: Scan) -> list[AgentRow]:
    """Rows per (session, agent), main sessions included, in order of first call."""
    rows: dict[tuple[str | None, str], AgentRow] = {}
    for call, cost in costed:
        agent = call.agent_id or MAIN_AGENT
        key = (call.session_id, agent)
        row = rows.get(key)
        if row is None:
            row = AgentRow(
                agent_id=agent,
                session_id=call.session_id,
                totals=Totals(),
                info=scan.agents.get(call.agent_key) if call.agent_key else None,
                compaction=call.compaction,
            )
            rows[key] = row
        row.totals.add(call, cost)
    return list(rows.values())
