"""pydantic validation of a loaded YAML document, with errors that name file, line and field."""

from __future__ import annotations

import difflib
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from pytest_orchphase.errors import InvalidFile, OrchphaseError
from pytest_orchphase.load.yamlio import Document, FieldPath, dotted

M = TypeVar("M", bound=BaseModel)
MAX_PROBLEMS = 20


def _vocabulary(
    model: type[BaseModel], seen: set[type[BaseModel]] | None = None, where: str = ""
) -> dict[str, list[str]]:
    """Every key any model reachable from ``model`` accepts (for did-you-mean), with the places
    it belongs (``implementation``, ``tickets.<id>``; "" for the top level), in model order."""
    seen = seen if seen is not None else set()
    if model in seen:
        return {}
    seen.add(model)
    words: dict[str, list[str]] = {}

    def add(key: str, place: str) -> None:
        places = words.setdefault(key, [])
        if place not in places:
            places.append(place)

    for name, info in model.model_fields.items():
        key = info.alias or name
        add(key, where)
        types = _types_in(info.annotation)
        inner = f"{key}.<id>" if any(t is dict for t in types) else key
        for arg in types:
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                # a model met again elsewhere (Stage under each stage) is named there too
                for word, places in _vocabulary(arg, set(seen), inner).items():
                    for place in places:
                        add(word, place)
    return words


def _types_in(annotation: Any) -> list[Any]:
    out = [annotation]
    for arg in getattr(annotation, "__args__", ()) or ():
        out.extend(_types_in(arg))
    for meta in getattr(annotation, "__metadata__", ()) or ():
        out.extend(_types_in(meta))
    origin = getattr(annotation, "__origin__", None)
    if origin is not None and origin is not annotation:
        out.extend(_types_in(origin))
    return out


def _doc_path(data: Any, loc: tuple[int | str, ...], missing: bool) -> FieldPath:
    """Map a pydantic ``loc`` onto the document, dropping union tags (``str``,
    ``function-after[…]``); a missing key is kept as the last part."""
    path: list[str | int] = []
    here = data
    for part in loc:
        if isinstance(here, dict) and part in here:  # noqa: SIM114 (mypy narrows each apart)
            path.append(part)
            here = here[part]
        elif isinstance(here, list) and isinstance(part, int) and 0 <= part < len(here):
            path.append(part)
            here = here[part]
        elif missing and isinstance(here, dict) and isinstance(part, str) and part == loc[-1]:
            path.append(part)
    return tuple(path)


def _is_type_error(err: Any) -> bool:
    """A union member's "not a string/int/…" complaint: less telling than another member's."""
    kind: str = err["type"]
    return kind.endswith("_type") or kind.endswith("_parsing")


def _message(err: Any, key: str | int | None, words: dict[str, list[str]]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        if places := words.get(str(key)):
            # a key of another place: say where it belongs, not "did you mean" itself
            named = [p or "the top level" for p in places]
            if len(named) > 1:
                named = [", ".join(named[:-1]) + " or " + named[-1]]
            return f"unknown key {key!r} here; it belongs under {named[0]}"
        close = difflib.get_close_matches(str(key), sorted(words), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown key {key!r}{hint}"
    if kind == "missing":
        return f"missing required key {key!r}"
    msg: str = err["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    if kind not in ("value_error", "assertion_error"):
        msg = f"{msg}, got {err.get('input')!r}"
    return msg


def validate(doc: Document, model: type[M], *, root: FieldPath = ()) -> M:
    """Validate ``doc.data`` (or the part at ``root``) as ``model``; raise :class:`InvalidFile`."""
    data = doc.data
    for part in root:
        data = data[part]
    if data is None:
        raise doc.error(f"is empty; expected a mapping ({model.__name__})", root)
    if not isinstance(data, dict):
        raise doc.error(
            f"expected a mapping of keys ({model.__name__}), got {type(data).__name__}", root
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        words = _vocabulary(model)
        # One message per field: a union reports each member's complaint; keep the most telling
        # (a model's own check rather than "not a string").
        chosen: dict[str, tuple[Any, FieldPath]] = {}
        for err in exc.errors():
            full = (*root, *_doc_path(data, err["loc"], err["type"] == "missing"))
            field = dotted(full)
            held = chosen.get(field)
            if held is None or (_is_type_error(held[0]) and not _is_type_error(err)):
                chosen[field] = (err, full)
        problems: list[OrchphaseError] = []
        for field, (err, full) in list(chosen.items())[:MAX_PROBLEMS]:
            line, column = doc.where(full)
            key = err["loc"][-1] if err["loc"] else None
            problems.append(
                OrchphaseError(
                    _message(err, key, words),
                    path=doc.path,
                    line=line,
                    column=column,
                    field=field,
                )
            )
        raise InvalidFile(problems) from None
