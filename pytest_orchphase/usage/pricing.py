"""Dollar cost of API calls from a price table (shipped data, overridable by the user).

Per call, with rates in USD per million tokens (Claude Code's own formula)::

    cost = in·p_in + out·p_out + cache_read·p_read + cw_1h·p_1h + (cache_creation − cw_1h)·p_5m
    (× the geo multiplier, 1.1 for ``inference_geo == "us"``; + $0.01 per web search)

Long-context tiers replace every rate of a request whose prompt (input + cache read + cache
write) exceeds the tier's threshold; fast mode replaces input/output rates and scales the cache
rates by the same factor. An unknown model has no cost (``None``), never $0. A rate the call's
record does not decide (its day, the tier of the requests a sum adds up) is never guessed the cheap
way and shown exact: the call is priced at the cheapest it may have cost and flagged as a lower
bound (:meth:`PriceTable.priced`).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_orchphase.errors import OrchphaseError, UnknownModelWarning
from pytest_orchphase.families import FAMILIES
from pytest_orchphase.usage.rates import (
    ModelPrice,
    Rates,
    bases,
    dated,
    model_price,
    rates_for,
    tokens_cost,
    unknowns,
)

if TYPE_CHECKING:
    from pytest_orchphase.usage.records import ApiCall

#: The price table the package ships (package data: a file beside the code in every install),
#: as its maintainers write and review it.
SHIPPED_PRICES = Path(__file__).parent.parent / "data" / "prices.yaml"
#: The same table as JSON, which is what a run reads: importing a YAML parser costs 10-15 ms,
#: a twentieth of a cold scan of 200 MB. A test keeps it the YAML's, to the byte.
SHIPPED_TABLE = SHIPPED_PRICES.with_suffix(".json")
#: Inference geos billed at the standard rate: ``global`` (the default), and what Claude Code
#: records for models without the parameter (none, ``""``, ``not_available``). Any other geo
#: costs what ``geo_multipliers`` says, or is priced as a lower bound.
STANDARD_GEOS: frozenset[str | None] = frozenset({None, "", "global", "not_available"})
_SUFFIX_1M = re.compile(r"\[1m\]$", re.IGNORECASE)
# "anthropic/claude-…": Anthropic's own model under a client's provider prefix.
_PROVIDER_PREFIX = re.compile(r"^anthropic/")
_SNAPSHOT_DATE = re.compile(r"-20\d{6}$")
#: How far Claude Code's own cost of a headless run (or of a model of it) may be from what its
#: tokens price to and still be the same price: half a cent (the builds that price right equal
#: the formula to the cent; the rest is rounding). Within it the figure is the larger of the
#: two, never the lower; beyond it the two are different bills (see
#: :func:`~pytest_orchphase.usage.aggregate.below_reported` and :meth:`PriceTable.priced`).
REPORTED_SLACK_USD = 0.005
# The ids of cloud platforms that bill Claude at their own rates: Amazon Bedrock's
# ("anthropic.claude-…-v1:0", its inference profiles "us.", "us-gov.", "eu.", "apac.",
# "global." …, an inference profile's or a model's ARN "arn:aws:bedrock:…", which Claude Code
# takes as ANTHROPIC_MODEL) and Google Vertex AI's ("claude-…@20250929").
_BEDROCK = re.compile(r"^(?:arn:aws[a-z-]*:bedrock:|(?:[a-z][a-z0-9-]*\.)?anthropic\.)")
#: Why a platform's id has no price of the table's (the pages read on 2026-11-30).
PLATFORM_RATES = {
    "Amazon Bedrock": (
        "AWS bills it at its own rates, which vary by the Region the request is made from, a "
        "geographic cross-Region profile (us., eu., apac. …) about 10 % above a global one "
        "(docs.aws.amazon.com/bedrock/latest/userguide/global-cross-region-inference.html); "
        "no Anthropic page gives them"
    ),
    "Google Vertex AI": (
        "Google bills it at its own rates, a regional endpoint 10 % above the global one from "
        "Claude Sonnet 4.5 on, and the id does not say which endpoint served it "
        "(platform.claude.com/docs/en/build-with-claude/claude-on-vertex-ai); no Anthropic page "
        "gives them"
    ),
}


@dataclass
class PriceTable:
    """Model prices plus the rules to apply them to one call."""

    models: dict[str, ModelPrice]
    aliases: dict[str, str] = field(default_factory=dict)
    family_defaults: dict[str, str] = field(default_factory=dict)
    geo_multipliers: dict[str, float] = field(default_factory=dict)
    web_search_per_request: float = 0.01
    taken: str | None = None
    sources: list[Path] = field(default_factory=list)
    #: Models seen by :meth:`cost` without a price, with how many calls each.
    unknown_models: dict[str, int] = field(default_factory=dict)
    #: Model ids the price files declare unpriced, with why (no published rate was found).
    unpriced: dict[str, str] = field(default_factory=dict)
    #: :meth:`price` of each model name asked for (a scan asks it twice per call); emptied
    #: whenever a price file is merged in.
    _prices: dict[str, ModelPrice | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    # -- loading ---------------------------------------------------------------------------

    @classmethod
    def load(cls, override: Path | None = None) -> PriceTable:
        """The shipped table, with ``override`` (same shape) merged over it when given.

        An override's model entry replaces the shipped entry of the same id and of every model
        its id or aliases name in the shipped table (an alias's dated model); its
        ``family_defaults`` and ``geo_multipliers`` are merged key by key; scalars replace.
        Raises :class:`~pytest_orchphase.errors.OrchphaseError` for a bad override file.
        """
        table = cls(models={})
        # The shipped file is trusted (a test validates it against the schema): read it
        # without pydantic, which costs more than a whole scan of a small session.
        # Named by the YAML, the file people read and change (the JSON is its copy).
        table._merge(_load_json(SHIPPED_TABLE), SHIPPED_PRICES)
        if override is not None:
            from pytest_orchphase.usage.price_file import read_price_file

            table._merge(read_price_file(override).model_dump(), override)
        return table

    def _merge(self, data: dict[str, Any], path: Path) -> None:
        self._prices.clear()
        # Which key of this file priced each model, and at what: two keys for one model (an
        # alias and its dated id) at two prices are an error, not whichever came last.
        priced_by: dict[str, tuple[str, ModelPrice]] = {}
        for model_id, entry in (data.get("models") or {}).items():
            price = model_price(entry)
            aliases = list(entry.get("aliases") or ())
            # An entry prices every model its names stood for so far: under an alias of the
            # table (`claude-sonnet-4-5`), the dated model it names as well, whose calls
            # would otherwise keep the older price.
            names = (model_id, *aliases)
            named = {model_id, *(m for n in names if (m := self._named(n, dated=True)))}
            for model in sorted(named):
                _check_one_price(priced_by, model, model_id, price, path)
                self.models[model] = price
                self.unpriced.pop(model, None)
            for alias in aliases:
                self.aliases[alias] = model_id
        for model_id, why in (data.get("unpriced") or {}).items():
            # Under an alias, the model it names is unpriced too (as a price under it prices it).
            for model in {model_id, self._named(model_id, dated=True) or model_id}:
                self.unpriced[model] = " ".join(str(why).split())
                self.models.pop(model, None)
        families = data.get("family_defaults") or {}
        self.family_defaults.update({k.lower(): v for k, v in families.items()})
        geos = data.get("geo_multipliers") or {}
        self.geo_multipliers.update({k.lower(): float(v) for k, v in geos.items()})
        if data.get("web_search_per_request") is not None:
            self.web_search_per_request = float(data["web_search_per_request"])
        if data.get("taken") is not None:
            self.taken = str(data["taken"])
        self.sources.append(path)

    def _named(self, name: str, *, dated: bool = False) -> str | None:
        """The model of the table ``name`` is (its id) or stands for (an alias, or with
        ``dated`` a snapshot id of a model listed undated), if any."""
        if name in self.models:
            return name
        target = self.aliases.get(name)
        if target is not None and target in self.models:
            return target
        undated = _SNAPSHOT_DATE.sub("", name)
        if dated and undated != name and undated not in self.unpriced:
            return self._named(undated)
        return None

    # -- lookup ----------------------------------------------------------------------------

    def resolve(self, model: str) -> str | None:
        """The canonical model id for ``model``, or ``None`` when it has no price.

        Handles the ``[1m]`` suffix, undated aliases (``claude-sonnet-4-5``), an
        ``anthropic/`` prefix and family names (``sonnet``) through the configured family
        defaults. An id of Amazon Bedrock or Google Vertex AI (``us.anthropic.claude-…-v1:0``,
        ``claude-…@20250929``) has a price only where a price file gives that very id: the
        platform bills at its own rates (:data:`PLATFORM_RATES`), never Anthropic's.
        """
        name = _SUFFIX_1M.sub("", model.strip())
        if platform(name) is not None:
            return None if name in self.unpriced else self._named(name)
        for candidate in _spellings(name):
            if candidate in self.unpriced:
                return None
            # A dated snapshot id of a model listed undated costs what the model costs.
            if target := self._named(candidate, dated=True):
                return target
        # A family name ("sonnet") names a model only through what a price file says it meant
        # for its calls: which one Claude Code's alias picked changed with its version and day.
        family = self.family_defaults.get(name.lower())
        if family is not None and family != name:
            return self.resolve(family)
        return None

    def lower_bound_reason(self, call: ApiCall) -> str:
        """Why :meth:`cost` of ``call`` may be below its bill ("" when it is not)."""
        price = self.price(call.model)
        reasons = self._reasons(call, price)
        taken = self._reported(call, reasons, self._least(call, price))
        return "" if taken is not None else "; ".join(reasons)

    def _reasons(self, call: ApiCall, price: ModelPrice | None) -> list[str]:
        """Why the table's price of ``call`` may be below its bill: its source's reason, and
        what its record does not say that its rate depends on (see :meth:`priced`)."""
        reasons = [call.cost_lower_bound] if call.cost_lower_bound else []
        if price is not None:
            reasons += unknowns(price, call)
            if unknown := self._unknown_geos(call):
                reasons.append(
                    f"{call.model} {'sum of requests' if call.aggregate else 'call'} with "
                    f"inference_geo {', '.join(map(repr, unknown))}, priced at the standard rate: "
                    "the price table has no multiplier for it (US-only inference costs more), "
                    "a lower bound; give it in geo_multipliers of a price file"
                )
            if call.aggregate and self._geo(call) > 1:
                reasons.append(
                    f"{call.model} sum of requests of a run with {call.inference_geo} inference "
                    f"(x{self._geo(call):g}), priced without it: a sum does not say which of "
                    "its requests were, a lower bound"
                )
        return reasons

    def _unknown_geos(self, call: ApiCall) -> list[str]:
        """The inference geos ``call`` names that the table has no multiplier for and that
        are not the standard rate's (``global``, or none on a model without the parameter)."""
        geos = (call.inference_geo or "").lower().split(",")
        return [g for g in geos if g not in STANDARD_GEOS and g not in self.geo_multipliers]

    def _geo(self, call: ApiCall) -> float:
        """The largest multiplier of the inference geos ``call`` names (a sum may name several,
        comma-separated); 1.0 for none."""
        geos = (call.inference_geo or "").lower().split(",")
        return max(self.geo_multipliers.get(geo, 1.0) for geo in geos)

    def why_unpriced(self, model: str) -> str:
        """Why ``model`` has no price, and what to do about it."""
        name = _SUFFIX_1M.sub("", model.strip())
        cloud = platform(name)
        if cloud is not None and name not in self.unpriced:
            return f"an {cloud} model id: {PLATFORM_RATES[cloud]}; add its rates with --prices FILE"
        for candidate in _spellings(name):
            why = self.unpriced.get(candidate)
            if why is not None:
                return f"no published price: {why}; add it with --prices FILE"
        if name.lower() in FAMILIES:
            return (
                "a model family, not a model: the model Claude Code's alias ran changed with "
                "its version and day, which the call's record does not say; give what it meant "
                "for your calls in family_defaults of a price file (--prices FILE)"
            )
        return "not in the price table; add it to a price file given with --prices"

    def price(self, model: str) -> ModelPrice | None:
        try:
            return self._prices[model]
        except KeyError:
            canonical = self.resolve(model)
            price = None if canonical is None else self.models[canonical]
            self._prices[model] = price
            return price

    # -- cost ------------------------------------------------------------------------------

    def cost(self, call: ApiCall) -> float | None:
        """USD for one call, or ``None`` (with an :class:`UnknownModelWarning`) if unpriced."""
        return self.priced(call)[0]

    def priced(self, call: ApiCall) -> tuple[float | None, str]:
        """USD for one call (``None``, with an :class:`UnknownModelWarning`, if unpriced) and
        why it may be below the bill ("" when it is exact); a call of a service tier other than
        the standard one (whose rates the table holds) has no cost, and the reason says why.

        What the call's record does not say is never guessed the cheap way and shown exact:
        made on an unknown date under a model whose rates changed, it is priced at the cheapest
        of them; summed over requests (a headless ``modelUsage``) whose prompts together pass a
        long-context threshold (or whose run's largest message did), or of a run in fast mode or
        US-only inference, at the base rates; in a tier whose rates are published nowhere read,
        or in fast mode without fast rates in the table, at the base rates. Each time the figure
        is at least what it shows, never above the bill, and says why. Claude Code's own cost of
        the figure (``reported_cost``, set only where its build is trusted to price it) is taken
        instead wherever the table's price would be such a bound, or the call's source says the
        table under-prices it."""
        price = self.price(call.model)
        stamp, tier = call.timestamp, call.service_tier
        if (
            price is not None
            and stamp is not None
            and not call.aggregate
            and not call.cost_lower_bound
            and (tier is None or tier == "standard")
            and (price.unknown_tier is None or call.prompt_tokens <= price.unknown_tier[0])
            and (price.fast_input is not None or call.speed is None or call.speed == "standard")
            and ((geo := call.inference_geo) in STANDARD_GEOS or geo in self.geo_multipliers)
        ):
            # Most calls: one dated request of the standard tier, whose rates are all known.
            return self._cost(call, rates_for(price, call, dated(price, stamp.date()))), ""
        return self._priced_unsure(call, price)

    def _priced_unsure(self, call: ApiCall, price: ModelPrice | None) -> tuple[float | None, str]:
        """:meth:`priced` of a call whose rates its record may not decide."""
        reasons = self._reasons(call, price)
        least = self._least(call, price)
        taken = self._reported(call, reasons, least)
        if taken is not None:
            return taken, ""
        if price is not None and least is None:
            return None, (
                f"{call.model} call of service tier {call.service_tier!r}: the price table's "
                "rates are the standard tier's, this tier's are not in it"
            )
        if price is None:
            seen = self.unknown_models.get(call.model, 0)
            self.unknown_models[call.model] = seen + 1
            if not seen:
                warnings.warn(
                    f"no price for model {call.model!r}: its cost is unknown "
                    f"({self.why_unpriced(call.model)})",
                    UnknownModelWarning,
                    stacklevel=3,
                )
            return None, ""
        assert least is not None
        return least, "; ".join(reasons) if reasons else ""

    def _reported(self, call: ApiCall, reasons: list[str], least: float | None) -> float | None:
        """Claude Code's own cost of ``call`` (``reported_cost``, set only where its build is
        trusted to price it) where it is taken for the table's price, which ``reasons`` say is
        a bound: held to the ``least`` its tokens cost at the table's rates (None: the table
        lacks the price, a model's or a tier's). Where it is not taken for being below that,
        ``reasons`` gets why."""
        reported = call.reported_cost
        if not reasons or reported is None:
            return None
        if least is None:
            # A price the table lacks: the build's figure of it, unless it is $0, which for
            # tokens is no bill but a model the build does not price either, or the model is a
            # cloud platform's id, which Claude Code prices at Anthropic's rates, not the
            # platform's bill (a price file that gives that id prices it from the table).
            cloud = platform(_SUFFIX_1M.sub("", call.model.strip()))
            return reported if reported > 0 and cloud is None else None
        if reported + REPORTED_SLACK_USD >= least:
            return max(reported, least)
        # Below the least its tokens can cost: no bill (a model its build does not price, a
        # count its cost left out), so the table's price stands, as a bound.
        reasons.append(
            f"{call.path}: Claude Code's costUSD of {call.model} (${reported:.4f}) is below "
            f"the ${least:.4f} its tokens cost at the least: not taken"
        )
        return None

    def _least(self, call: ApiCall, price: ModelPrice | None) -> float | None:
        """The cheapest ``call`` may have cost at the table's rates (its record's possible
        dates, the base rates of what it does not say); None where the table has no rates for
        it (no price for its model, or a service tier other than the standard one)."""
        tier = call.service_tier
        if price is None or (tier is not None and tier.lower() != "standard"):
            return None
        return min(self._cost(call, rates_for(price, call, base)) for base in bases(price, call))

    def _cost(self, call: ApiCall, rates: Rates) -> float:
        # A sum's geo is only possible for some of its requests: it is priced without it.
        geo = (
            1.0
            if call.aggregate
            else self.geo_multipliers.get((call.inference_geo or "").lower(), 1.0)
        )
        tokens = tokens_cost(call, rates) * geo
        return tokens + call.web_search_requests * self.web_search_per_request


def _check_one_price(
    priced_by: dict[str, tuple[str, ModelPrice]],
    model: str,
    key: str,
    price: ModelPrice,
    path: Path,
) -> None:
    """Record that ``key`` of the price file ``path`` prices ``model`` at ``price``; raise
    :class:`OrchphaseError` when another key of it priced the same model otherwise."""
    earlier = priced_by.setdefault(model, (key, price))
    if earlier[0] != key and _rates_only(earlier[1]) != _rates_only(price):
        raise OrchphaseError(
            f"models.{earlier[0]} and models.{key} both price {model} (an alias and the model "
            "it names), at different rates; expected one entry for the model, or the same rates",
            path=path,
            field=f"models.{key}",
        )


def _rates_only(price: ModelPrice) -> ModelPrice:
    """``price`` without where and when it was read, which do not change a cost."""
    return replace(price, source=None, read=None)


def platform(model: str) -> str | None:
    """The cloud platform whose own id ``model`` is (its key in :data:`PLATFORM_RATES`), or
    ``None`` for an id of Anthropic's API."""
    if _BEDROCK.match(model):
        return "Amazon Bedrock"
    if "@" in model:
        return "Google Vertex AI"
    return None


def _spellings(name: str) -> list[str]:
    bare = _PROVIDER_PREFIX.sub("", name)
    return [name] if bare == name else [name, bare]


def _load_json(path: Path) -> dict[str, Any]:
    import json

    data = json.loads(path.read_bytes())
    return data if isinstance(data, dict) else {}
