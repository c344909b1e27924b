"""One transcript line: the prefilters that skip lines without usage, the constants of the
format, and a billed call built from a line's ``usage``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from pytest_orchphase.usage.records import ApiCall, UsageFields, are_counts

_loads: Callable[[bytes], Any]
try:  # orjson is optional: about twice as fast on large transcripts.
    import orjson

    _loads = orjson.loads
except ImportError:  # pragma: no cover - depends on the environment
    _loads = json.loads

SYNTHETIC_MODEL = "<synthetic>"
SPAWN_TOOLS = ("Task", "Agent")
INLINE_SIDECHAIN = "sidechain"
COMPACTION_PREFIX = "acompact"
#: Scans of at least this many bytes (and several files) use a process pool.
READ_BUFFER = 1 << 20

_USAGE = b'"usage"'
#: What a line that may record a call's usage holds before its ``usage`` object, which Claude
#: Code writes last in ``message``: a line cut short before it lost the call all the same. An
#: assistant message (its ``type`` or ``role``), a Task's result with the sub-agent's usage, a
#: sub-agent's copy in the parent.
_USAGE_MARKERS = (_USAGE, b'"assistant"', b'"toolUseResult"', b'"agent_progress"')


def may_hold_usage(line: bytes) -> bool:
    """Whether a line that cannot be read may have recorded a call (asked only of malformed
    lines: when one may, the figures read are only lower bounds). A line holding NUL bytes is
    text of another encoding than UTF-8 (UTF-16 lines appended by Windows PowerShell's ``>>``),
    whose markers cannot be searched for: it may."""
    return any(marker in line for marker in _USAGE_MARKERS) or b"\x00" in line


#: The byte order marks of the encodings a file of JSON lines may be saved in besides UTF-8
#: (UTF-32's first: its little-endian mark begins as UTF-16's), each with what it is.
_FOREIGN_MARKS = (
    (b"\x00\x00\xfe\xff", "UTF-32 (big-endian: its byte order mark is 00 00 FE FF)"),
    (b"\xff\xfe\x00\x00", "UTF-32 (little-endian: its byte order mark is FF FE 00 00)"),
    (b"\xff\xfe", "UTF-16 (little-endian: its byte order mark is FF FE)"),
    (b"\xfe\xff", "UTF-16 (big-endian: its byte order mark is FE FF)"),
)


def foreign_encoding(head: bytes) -> str | None:
    """The encoding other than UTF-8 a file's first bytes show it is saved in (Windows
    PowerShell's ``>`` and ``Out-File`` write UTF-16), else ``None``: a byte order mark of
    UTF-16 or UTF-32 (bytes no UTF-8 text begins with), or a NUL byte among the first four (a
    NUL is in no UTF-8 JSON text)."""
    for mark, name in _FOREIGN_MARKS:
        if head.startswith(mark):
            return name
    if b"\x00" in head[:4]:
        return "UTF-16 or UTF-32 (NUL bytes between its characters, no byte order mark)"
    return None


def foreign_file(encoding: str) -> str:
    """What a warning says of a file saved in ``encoding`` (see :func:`foreign_encoding`): no
    line of it is read, and it may have recorded calls."""
    return (
        f"the file is encoded as {encoding}; expected UTF-8, as Claude Code writes it: none of "
        "it is read (convert it to UTF-8, e.g. `iconv -f UTF-16 -t UTF-8`, or in PowerShell "
        "`Set-Content -Encoding utf8`)"
    )


_USER = b'"user"'
#: Claude Code's own text in the user's turn (an interruption note, a background agent's
#: completion notice), not a prompt the user wrote: never a session's first prompt.
_NOT_PROMPTS = ("[Request interrupted", "<task-notification>")
#: Lines without usage that are still read: inline sidechain lines (their chain leads to a
#: Task), and a background agent's launch result and completion notice.
#: Lines without usage that are still read (in a main file): inline sidechain lines (their chain
#: leads to a Task), a background agent's launch result and completion notice, and a headless
#: stream's init line (its Claude Code version; a run begun). Each marker sits near the start
#: of its line (the keys before ``message``, the start of a short message, the launch result
#: after a short tool_result), so only a line's head is searched: tool outputs make most lines
#: long.
_SIDECHAIN = (b'"isSidechain":true', b'"isSidechain": true')
_HEAD = 1024
_NOTICE = b"<task-notification>"
_LAUNCHED = b'"async_launched"'
_LAUNCH_HEAD = 16384
_INIT = b'"claude_code_version"'
#: A headless stream's init line of any build (one with no version still begins a run).
_SYSTEM = (b'{"type":"system"', b'{"type": "system"')
_INIT_SUBTYPE = (b'"subtype":"init"', b'"subtype": "init"')


def _also_read(line: bytes) -> bool:
    # Searched in place (``find`` with an end): a slice would copy up to 16 kB of every line.
    find = line.find
    return (
        find(_SIDECHAIN[0], 0, _HEAD) >= 0
        or find(_SIDECHAIN[1], 0, _HEAD) >= 0
        or find(_NOTICE, 0, 4 * _HEAD) >= 0
        or find(_LAUNCHED, 0, _LAUNCH_HEAD) >= 0
        or (
            line.startswith(_SYSTEM)
            and (_INIT in line or _INIT_SUBTYPE[0] in line or _INIT_SUBTYPE[1] in line)
        )
    )


_NOTICE_FIELD = re.compile(r"<(task-id|tool-use-id|status)>\s*([^<]*?)\s*</\1>")


class _Bad(Exception):
    """A line whose fields have the wrong types."""


class ContradictoryLine(ValueError):
    """A line whose own figures contradict each other: read as a malformed line, with this
    message (what disagrees) in its warning instead of "wrong field types"."""


class ImpossibleFigure(ValueError):
    """A line holding a figure no run can have (a corrupt file): read as a malformed line,
    with this message (the field, what it holds and what was expected) in its warning."""


def bad_line(exc: Exception, usual: str) -> str:
    """What a warning says of a line that could not be read: ``usual``, or the contradiction
    (or the impossible figure) the line holds."""
    return str(exc) if isinstance(exc, (ContradictoryLine, ImpossibleFigure)) else usual


# -- one line -------------------------------------------------------------------------------


def _count(part: dict[str, Any], name: str, where: str = "usage") -> int:
    """``part[name]`` as a count: 0 when the field is absent (real builds leave some out: the
    ``cache_creation`` split, ``server_tool_use``); :class:`ImpossibleFigure` naming the field
    for anything else, null too: a count that is null is no count (as a negative or a textual
    one is not), never read as 0 (the line is then malformed, and may have held a call)."""
    value = part.get(name, 0)
    if type(value) is int and value >= 0:
        return value
    shown = "null" if value is None else repr(value)
    raise ImpossibleFigure(
        f"{where}.{name} is {shown}; expected a token count (a whole number from 0, or the "
        "field left out)"
    )


def _opt_int(value: Any) -> int | None:
    """A count or a duration, when recorded as one (never below 0)."""
    return value if type(value) is int and value >= 0 else None


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _nested_int(usage: dict[str, Any], outer: str, inner: str) -> int:
    """``usage[outer][inner]`` as a count (see :func:`_count`): 0 when ``usage[outer]`` is
    absent or null (the API's usage leaves the ``cache_creation`` and ``server_tool_use``
    objects null where it reports none); :class:`_Bad` when it is no object."""
    part = usage.get(outer)
    if part is None:
        return 0
    if not isinstance(part, dict):
        raise _Bad
    return _count(part, inner, f"usage.{outer}")


def _inner(part: Any, name: str) -> Any:
    """``part[name]`` (0 when ``part`` is absent), ``None`` when ``part`` is no object."""
    if part is None:
        return 0
    return part.get(name, 0) if type(part) is dict else None


def usage_fields(usage: Any) -> UsageFields:
    """A ``usage`` object's figures; :class:`_Bad` on wrong types.

    Its cache writes are the larger of ``cache_creation_input_tokens`` and its
    ``cache_creation`` split (5-minute plus 1-hour writes): a split above the total contradicts
    it, and the larger figure is never low (the split priced at its rates, any rest of the
    total at the 5-minute rate). Each count is the larger of the top-level one and its sum over
    ``usage.iterations``: the API's top-level usage is the last sampling of the request alone,
    and a compaction iteration before it (its own input and output) is billed too; a build
    whose top-level usage holds every iteration is not counted twice."""
    fields = _own_fields(usage)
    iterations = usage.get("iterations")  # a dict: _own_fields raised _Bad for anything else
    return with_iterations(fields, iterations) if iterations else fields


def with_iterations(fields: UsageFields, iterations: Any) -> UsageFields:
    """``fields`` with each count the larger of its own and its sum over ``iterations`` (a
    ``usage.iterations`` list; :class:`_Bad` for anything else)."""
    if type(iterations) is not list:
        raise _Bad
    sums = [0] * 6
    for iteration in iterations:
        for k, count in enumerate(_own_fields(iteration)[:6]):
            sums[k] += count
    inp, out, write, write_1h, read, web, speed, geo, tier = fields
    return (
        max(inp, sums[0]),
        max(out, sums[1]),
        max(write, sums[2]),
        max(write_1h, sums[3]),
        max(read, sums[4]),
        max(web, sums[5]),
        speed,
        geo,
        tier,
    )


def left_out(iterations: Any) -> tuple[int, ...]:
    """Each count (input, output, cache writes, 1h writes, reads, web searches) summed over the
    ``usage.iterations`` of a type other than ``message``: a compaction's sampling, which the
    API's top-level usage leaves out (an iteration that names no type is taken as the
    message's). :class:`_Bad` for anything but a list of usage objects."""
    if type(iterations) is not list:
        raise _Bad
    sums = [0] * 6
    for iteration in iterations:
        counts = _own_fields(iteration)[:6]  # _Bad for anything but a usage object
        if iteration.get("type", "message") != "message":
            sums = [mine + count for mine, count in zip(sums, counts, strict=True)]
    return tuple(sums)


def _own_fields(usage: Any) -> UsageFields:
    """A ``usage`` object's own figures (its ``iterations`` left aside)."""
    if type(usage) is dict:
        # Once per usage line: read and checked in one test; a count that is null or is no
        # count falls through to the field by field reading, which names it (an absent one
        # is 0).
        get = usage.get
        inp, out = get("input_tokens", 0), get("output_tokens", 0)
        write, read = get("cache_creation_input_tokens", 0), get("cache_read_input_tokens", 0)
        created, server = get("cache_creation"), get("server_tool_use")
        write_1h = _inner(created, "ephemeral_1h_input_tokens")
        write_5m = _inner(created, "ephemeral_5m_input_tokens")
        web = _inner(server, "web_search_requests")
        if (
            are_counts(inp, out, write, write_1h, read, web)
            and type(write_5m) is int
            and write_5m >= 0
        ):
            speed, geo, tier = get("speed"), get("inference_geo"), get("service_tier")
            return (
                inp,
                out,
                max(write, write_5m + write_1h),
                write_1h,
                read,
                web,
                speed if speed and type(speed) is str else None,
                geo if geo and type(geo) is str else None,
                tier if tier and type(tier) is str else None,
            )
    elif not isinstance(usage, dict):
        raise _Bad
    write_1h = _nested_int(usage, "cache_creation", "ephemeral_1h_input_tokens")
    write_5m = _nested_int(usage, "cache_creation", "ephemeral_5m_input_tokens")
    return (
        _count(usage, "input_tokens"),
        _count(usage, "output_tokens"),
        max(_count(usage, "cache_creation_input_tokens"), write_5m + write_1h),
        write_1h,
        _count(usage, "cache_read_input_tokens"),
        _nested_int(usage, "server_tool_use", "web_search_requests"),
        _opt_str(usage.get("speed")) or None,
        _opt_str(usage.get("inference_geo")) or None,
        _opt_str(usage.get("service_tier")) or None,
    )


def usage_call(usage: Any, model: str, message_id: str, request_id: str) -> ApiCall:
    """An :class:`ApiCall` from a ``usage`` object; :class:`_Bad` on wrong types."""
    return ApiCall(message_id, request_id, model, *usage_fields(usage))


def fold_usage(into: ApiCall, fields: UsageFields) -> None:
    """Fold the figures of another copy of the same response into ``into``: the largest of
    each count, the first text recorded."""
    inp, out, write, write_1h, read, web, speed, geo, tier = fields
    into.input_tokens = max(into.input_tokens, inp)
    into.output_tokens = max(into.output_tokens, out)
    into.cache_creation_input_tokens = max(into.cache_creation_input_tokens, write)
    into.cache_creation_1h_tokens = max(into.cache_creation_1h_tokens, write_1h)
    into.cache_read_input_tokens = max(into.cache_read_input_tokens, read)
    into.web_search_requests = max(into.web_search_requests, web)
    into.speed = into.speed or speed
    into.inference_geo = into.inference_geo or geo
    into.service_tier = into.service_tier or tier


def fold_copy(into: ApiCall, agent_id: str | None, output_exact: bool, session: str | None) -> None:
    """What another copy of the same response says of whose it is: a named agent over none or
    an unnamed sidechain, compaction, an exact output, the session."""
    if agent_id not in (None, INLINE_SIDECHAIN) and into.agent_id in (None, INLINE_SIDECHAIN):
        into.agent_id = agent_id
    into.compaction = into.compaction or (
        agent_id is not None and agent_id.startswith(COMPACTION_PREFIX)
    )
    into.output_exact = into.output_exact or output_exact
    into.session_id = into.session_id or session


def merge_call(into: ApiCall, other: ApiCall) -> None:
    """Fold a copy of the same response into ``into``: the largest of each token field."""
    fold_usage(
        into,
        (
            other.input_tokens,
            other.output_tokens,
            other.cache_creation_input_tokens,
            other.cache_creation_1h_tokens,
            other.cache_read_input_tokens,
            other.web_search_requests,
            other.speed,
            other.inference_geo,
            other.service_tier,
        ),
    )
    fold_copy(into, other.agent_id, other.output_exact, other.session_id)
    into.compaction = into.compaction or other.compaction  # a ledger's call says it itself
    into.untimed_line = into.untimed_line or other.untimed_line
