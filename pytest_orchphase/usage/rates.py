"""One model's rates, and which of them a call was billed at.

A model's entry of the price table (:class:`ModelPrice`): its base rates and those in force
before a change (``earlier``), its long-context tier, its fast-mode rates, a tier whose rates are
published nowhere read. From them, a call's rates (:func:`rates_for`: its day's base rates, its
request's long-context tier, fast mode), the cost of its tokens (:func:`tokens_cost`, Claude
Code's formula, before the geo multiplier and web search), and what its record does not say that
its rate depends on (:func:`unknowns`). The table of all models, its files and the whole cost of a
call are :mod:`pytest_orchphase.usage.pricing`'s. Plain Python, no pytest.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_orchphase.usage.records import ApiCall

PER_MILLION = 1_000_000


@dataclass(frozen=True)
class Rates:
    """USD per million tokens."""

    input: float
    output: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float


@dataclass(frozen=True)
class ModelPrice:
    """One model's entry of the price table."""

    rates: Rates
    long_context_above: int | None = None
    long_context: Rates | None = None
    fast_input: float | None = None
    fast_output: float | None = None
    #: (until, rates) pairs: the rates in force for calls made before ``until``, oldest first.
    earlier: tuple[tuple[date, Rates], ...] = ()
    #: Where the rates were read and on which day (``None`` when the price file does not say).
    source: str | None = None
    read: str | None = None
    #: (above prompt tokens, until, why): a tier whose rates are published nowhere read.
    unknown_tier: tuple[int, date, str] | None = None


def tokens_cost(call: ApiCall, rates: Rates) -> float:
    """USD for the call's tokens at ``rates`` (Claude Code's formula, before geo and search)."""
    cache_1h = min(call.cache_creation_1h_tokens, call.cache_creation_input_tokens)
    cache_5m = call.cache_creation_input_tokens - cache_1h
    return (
        call.input_tokens * rates.input
        + call.output_tokens * rates.output
        + call.cache_read_input_tokens * rates.cache_read
        + cache_1h * rates.cache_write_1h
        + cache_5m * rates.cache_write_5m
    ) / PER_MILLION


def bases(price: ModelPrice, call: ApiCall) -> list[Rates]:
    """The base rates ``call`` may have been billed at: the ones in force on its day, or, made
    on an unknown day, every period's (the figure is then the cheapest, a lower bound)."""
    if call.timestamp is None:
        return [price.rates, *(rates for _, rates in price.earlier)]
    return [dated(price, call.timestamp.date())]


def dated(price: ModelPrice, when: date) -> Rates:
    """The base rates in force on ``when``."""
    for until, earlier in price.earlier:
        if when < until:
            return earlier
    return price.rates


def unknowns(price: ModelPrice, call: ApiCall) -> list[str]:
    """Why the table's price of ``call`` may be below its bill: what its record does not say
    that its rate depends on (see :meth:`PriceTable.priced`)."""
    out: list[str] = []
    prompt = call.prompt_tokens
    # The largest request whose tokens the call may hold: its own; for a sum, the sum itself,
    # or, for tokens beyond a run's messages, the largest of those messages.
    reach = max(prompt, call.largest_request)
    if not call.aggregate:
        what = f"{call.model} request of {prompt:,} prompt tokens"
    elif call.largest_request > prompt:
        what = f"{call.model} tokens beyond the run's messages (of up to {reach:,} prompt tokens)"
    else:
        what = f"{call.model} sum of requests of {prompt:,} prompt tokens"
    made = call.timestamp.date() if call.timestamp is not None else None
    if price.unknown_tier is not None:
        above, until, why = price.unknown_tier
        if reach > above and (made is None or made < until):
            out.append(
                f"{what} made {'before ' + str(until) if made else 'on an unknown date'}: {why}"
            )
    above_tier = price.long_context_above
    if call.aggregate and above_tier is not None and reach > above_tier:
        out.append(
            f"{what}, priced at the base rates: a request above {above_tier:,} may have been "
            "billed at the long-context rates (a sum does not say which), a lower bound"
        )
    if (call.speed or "").lower() == "fast" and price.fast_input is None:
        out.append(
            f"{call.model} {'sum of requests of a run' if call.aggregate else 'call'} in fast "
            "mode, priced at the standard rates: the table has no fast rates for the model "
            "(fast mode costs more), a lower bound"
        )
    if call.aggregate and is_fast(price, call):
        out.append(
            f"{call.model} sum of requests of a run in fast mode, priced at the standard "
            "rates: a sum does not say which of its requests were fast, a lower bound"
        )
    if made is None and price.earlier:
        costs = {tokens_cost(call, rates_for(price, call, base)) for base in bases(price, call)}
        if len(costs) > 1:
            changed = ", ".join(str(until) for until, _ in price.earlier)
            out.append(
                f"{call.model} call made on an unknown date, priced at the cheapest of the "
                f"rates in force before and since {changed}, a lower bound"
            )
    return out


def is_fast(price: ModelPrice, call: ApiCall) -> bool:
    """Whether ``call`` is (a sum: may be) in fast mode, and its model has a fast price."""
    return (call.speed or "").lower() == "fast" and price.fast_input is not None


def rates_for(price: ModelPrice, call: ApiCall, base: Rates) -> Rates:
    """The rates of ``call`` from the ``base`` rates of its day: its request's long-context
    tier (never a sum's), fast mode."""
    rates = base
    if (
        price.long_context is not None
        and price.long_context_above is not None
        and not call.aggregate
        and call.prompt_tokens > price.long_context_above
    ):
        rates = price.long_context
    # A sum's fast mode is only possible for some of its requests: it is priced without it.
    fast = price.fast_input
    if fast is not None and is_fast(price, call) and not call.aggregate:
        factor = fast / rates.input if rates.input else 1.0
        rates = Rates(
            input=fast,
            output=price.fast_output if price.fast_output is not None else rates.output * factor,
            cache_write_5m=rates.cache_write_5m * factor,
            cache_write_1h=rates.cache_write_1h * factor,
            cache_read=rates.cache_read * factor,
        )
    return rates


RATE_NAMES = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")


def rates_of(entry: dict[str, Any]) -> Rates:
    return Rates(*(float(entry[name]) for name in RATE_NAMES))


def model_price(entry: dict[str, Any]) -> ModelPrice:
    rates = rates_of(entry)
    long_context = entry.get("long_context")
    fast = entry.get("fast")
    earlier: list[tuple[date, Rates]] = []
    for old in sorted(entry.get("earlier") or (), key=lambda e: day(e["until"])):
        changes = {name: float(old[name]) for name in RATE_NAMES if old.get(name) is not None}
        earlier.append((day(old["until"]), replace(rates, **changes)))
    read = entry.get("read")
    tier = entry.get("unknown_long_context")
    return ModelPrice(
        unknown_tier=(
            int(tier["above_prompt_tokens"]),
            day(tier["until"]),
            " ".join(str(tier["why"]).split()),
        )
        if tier
        else None,
        source=str(entry["source"]) if entry.get("source") else None,
        read=str(read) if read is not None else None,
        rates=rates,
        long_context_above=int(long_context["above_prompt_tokens"]) if long_context else None,
        long_context=rates_of(long_context) if long_context else None,
        fast_input=float(fast["input"]) if fast else None,
        fast_output=float(fast["output"]) if fast else None,
        earlier=tuple(earlier),
    )


def day(value: date | str) -> date:
    """A day as a price file's YAML gives it (a date) or its JSON copy does (ISO text)."""
    return value if isinstance(value, date) else date.fromisoformat(value)
