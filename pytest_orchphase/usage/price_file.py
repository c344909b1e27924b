"""The schema of a price file (``pytest_orchphase/data/prices.yaml`` or a user's override).

Kept apart from :mod:`pytest_orchphase.usage.pricing` so that importing pricing stays cheap:
pydantic and PyYAML are loaded only when a table is actually read.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from pytest_orchphase.errors import OrchphaseError
from pytest_orchphase.load import validation, yamlio

#: A rate is a finite amount, never negative (``.inf`` or ``"Infinity"`` would print ``$inf`` and
#: write ``Infinity`` into the JSON report, which is not JSON), and a number: strict, so that
#: ``true`` is not read as $1 nor the text ``"3"`` as $3 (a boolean or words where a number
#: belongs are an error, as in a criteria file).
_Rate = Field(ge=0, allow_inf_nan=False, strict=True)
#: A multiplier scales a cost: finite and above 0 (a negative one makes a negative cost).
Multiplier = Annotated[float, Field(gt=0, allow_inf_nan=False, strict=True)]
#: A token threshold: a whole number above 0 (not ``true``, which would read as 1).
_Threshold = Field(gt=0, strict=True)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RatesFile(_Strict):
    """USD per million tokens."""

    input: float = _Rate
    output: float = _Rate
    cache_write_5m: float = _Rate
    cache_write_1h: float = _Rate
    cache_read: float = _Rate


class LongContextFile(RatesFile):
    """Rates for every token of a request whose prompt exceeds ``above_prompt_tokens``."""

    above_prompt_tokens: int = _Threshold


class FastFile(_Strict):
    """Fast mode (``usage.speed == "fast"``): input and output rates; cache rates scale alike."""

    input: float = _Rate
    output: float = _Rate


class EarlierFile(_Strict):
    """Rates in force for calls made before ``until`` (only the ones that differ)."""

    until: date
    input: float | None = Field(default=None, ge=0, allow_inf_nan=False, strict=True)
    output: float | None = Field(default=None, ge=0, allow_inf_nan=False, strict=True)
    cache_write_5m: float | None = Field(default=None, ge=0, allow_inf_nan=False, strict=True)
    cache_write_1h: float | None = Field(default=None, ge=0, allow_inf_nan=False, strict=True)
    cache_read: float | None = Field(default=None, ge=0, allow_inf_nan=False, strict=True)


class UnknownTierFile(_Strict):
    """A long-context tier whose rates no source gives: a request whose prompt exceeds
    ``above_prompt_tokens``, made before ``until``, is priced at the base rates and its cost is
    flagged as a lower bound, with ``why``."""

    above_prompt_tokens: int = _Threshold
    until: date
    why: str


class ModelFile(RatesFile):
    aliases: list[str] = Field(default_factory=list)
    #: Where the rates were read (a URL of Anthropic's published pricing) and on which day.
    source: str | None = None
    read: date | None = None
    long_context: LongContextFile | None = None
    fast: FastFile | None = None
    earlier: list[EarlierFile] = Field(default_factory=list)
    unknown_long_context: UnknownTierFile | None = None


class PriceFile(_Strict):
    """A whole price file. In an override every top-level field is optional."""

    taken: str | None = None
    currency: str | None = None
    web_search_per_request: float | None = Field(
        default=None, ge=0, allow_inf_nan=False, strict=True
    )
    geo_multipliers: dict[str, Multiplier] = Field(default_factory=dict)
    family_defaults: dict[str, str] = Field(default_factory=dict)
    models: dict[str, ModelFile] = Field(default_factory=dict)
    #: Model ids known to have no published price, with why: never priced, always flagged.
    unpriced: dict[str, str] = Field(default_factory=dict)


def read_price_file(path: Path) -> PriceFile:
    """Read and validate one price file; every problem is an :class:`OrchphaseError` that names
    the file, the line and the field.

    Loaded like every other data file (:mod:`pytest_orchphase.load.yamlio`): a duplicated model or
    family would otherwise silently replace the first, and an alias bomb would hang validation.
    """
    if not path.exists():
        raise OrchphaseError("price file not found; expected a YAML price file", path=path)
    doc = yamlio.load(path)
    if doc.data is None:
        return PriceFile()
    return validation.validate(doc, PriceFile)


def check_price_file(path: Path) -> None:
    """Raise :class:`OrchphaseError` unless ``path`` is a readable, valid price file."""
    if not path.exists():
        raise OrchphaseError("price file not found; expected a YAML price file", path=path)
    if path.is_dir():
        raise OrchphaseError("is a directory; expected a YAML price file", path=path)
    from pytest_orchphase.usage.pricing import PriceTable

    # Merged over the shipped table, as a run reads it: an entry at odds with the shipped
    # table's names (an alias priced apart from the model it names) is an error now.
    PriceTable.load(path)  # a named pipe or a device: "not a regular file"
