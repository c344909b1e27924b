"""The schema of a price file (``pytest_orchphase/data/prices.yaml`` or a user's override).

Kept apart from :mod:`pytest_orchphase.pricing` so that importing pricing stays cheap: pydantic
and PyYAML are loaded only when a table is actually read.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pytest_orchphase.errors import OrchphaseError

_Rate = Field(ge=0)


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

    above_prompt_tokens: int = Field(gt=0)


class FastFile(_Strict):
    """Fast mode (``usage.speed == "fast"``): input and output rates; cache rates scale alike."""

    input: float = _Rate
    output: float = _Rate


class EarlierFile(_Strict):
    """Rates in force for calls made before ``until`` (only the ones that differ)."""

    until: date
    input: float | None = Field(default=None, ge=0)
    output: float | None = Field(default=None, ge=0)
    cache_write_5m: float | None = Field(default=None, ge=0)
    cache_write_1h: float | None = Field(default=None, ge=0)
    cache_read: float | None = Field(default=None, ge=0)


class ModelFile(RatesFile):
    aliases: list[str] = Field(default_factory=list)
    long_context: LongContextFile | None = None
    fast: FastFile | None = None
    earlier: list[EarlierFile] = Field(default_factory=list)


class PriceFile(_Strict):
    """A whole price file. In an override every top-level field is optional."""

    taken: str | None = None
    currency: str | None = None
    web_search_per_request: float | None = Field(default=None, ge=0)
    geo_multipliers: dict[str, float] = Field(default_factory=dict)
    family_defaults: dict[str, str] = Field(default_factory=dict)
    models: dict[str, ModelFile] = Field(default_factory=dict)


def read_price_file(path: Path) -> PriceFile:
    """Read and validate one price file; every problem is an :class:`OrchphaseError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OrchphaseError("price file not found", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise OrchphaseError(f"cannot read price file: {exc}", path=path) from None
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise OrchphaseError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}", path=path, line=line
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise OrchphaseError(
            "expected a mapping with keys such as 'models' and 'family_defaults'", path=path
        )
    try:
        return PriceFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise OrchphaseError(
            f"{first['msg']} (expected the shape of pytest_orchphase/data/prices.yaml)",
            path=path,
            field=where or None,
        ) from None
