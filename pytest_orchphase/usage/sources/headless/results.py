"""Headless runs: ``claude -p --output-format json`` (one ``result`` object) or
``--output-format stream-json`` (one object a line, ending with the ``result``).

``modelUsage`` covers every agent of the run, sub-agents included. Where the file also holds the
run's assistant messages (stream-json), those are the calls, priced one by one (older builds
priced 1h cache writes at the 5m rate, so ``total_cost_usd`` can be low), and ``modelUsage``
only fills in what the messages are short of. Otherwise one aggregate call per model is made
from ``modelUsage``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_orchphase.usage.records import (
    LONGEST_RUN_MS,
    TOKEN_FIELDS,
    ApiCall,
    HeadlessResult,
    ModelUsage,
    Scan,
)
from pytest_orchphase.usage.sources.claude_code.lines import (
    ContradictoryLine,
    ImpossibleFigure,
    left_out,
    with_iterations,
)

_MODEL_USAGE_KEYS = {
    "input_tokens": "inputTokens",
    "output_tokens": "outputTokens",
    "cache_creation_input_tokens": "cacheCreationInputTokens",
    "cache_read_input_tokens": "cacheReadInputTokens",
    "web_search_requests": "webSearchRequests",
}


def _count(part: dict[str, Any], name: str, where: str) -> int:
    """``part[name]``, a token count (0 when the field is absent); :class:`ImpossibleFigure`
    naming ``where`` for anything else, which the scan counts as a malformed line: a null,
    negative or textual count is no count, never read as 0."""
    value = part.get(name, 0)
    if type(value) is int and value >= 0:
        return value
    shown = "null" if value is None else repr(value)
    raise ImpossibleFigure(
        f"headless result's {where}{name} is {shown}; expected a token count (a whole number "
        "from 0, or the field left out)"
    )


def _duration(value: Any) -> int | None:
    """The run's ``duration_ms`` (None when absent); :class:`ImpossibleFigure` for any value
    but milliseconds a run can have taken: one dropped would spare the log's stamps the check
    of the run's time (:func:`~pytest_orchphase.usage.agreement.refuse_contradictions`), one
    beyond any duration would end that check in a traceback."""
    if value is None:
        return None
    if type(value) is int and 0 <= value <= LONGEST_RUN_MS:
        return value
    raise ImpossibleFigure(
        f"headless result's duration_ms is {value!r}; expected the run's milliseconds, a whole "
        f"number from 0 to {LONGEST_RUN_MS:,}"
    )


def _cost(value: Any, where: str) -> float | None:
    """A cost Claude Code reports (None when absent or not a number, as before any build wrote
    one); :class:`ImpossibleFigure` for a negative or non-finite amount, which no run costs:
    taken, it would be a figure below the bill (or no figure at all)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    if not 0 <= value < math.inf:
        raise ImpossibleFigure(
            f"headless result's {where} is {value!r}; expected an amount in USD, 0 or more"
        )
    return float(value)


def _is_error(value: Any) -> bool:
    """The run's ``is_error``: a JSON boolean. ``"true"`` or ``1`` read as false would take a
    run that ended in error for one that finished its ticket: :class:`ImpossibleFigure`."""
    if type(value) is not bool:
        raise ImpossibleFigure(f"headless result's is_error is {value!r}; expected true or false")
    return value


def read_result_object(
    obj: dict[str, Any], path: Path, main_model: str | None = None
) -> HeadlessResult:
    """A :class:`HeadlessResult` from a ``type: result`` object (``ValueError`` on wrong counts).
    ``main_model``: the model the run's ``init`` line names, when its file has one."""
    result = HeadlessResult(
        path=path,
        session_id=obj.get("session_id") if isinstance(obj.get("session_id"), str) else None,
        subtype=obj.get("subtype") if isinstance(obj.get("subtype"), str) else None,
        is_error=_is_error(obj.get("is_error", False)),
        num_turns=obj.get("num_turns") if type(obj.get("num_turns")) is int else None,
        duration_ms=_duration(obj.get("duration_ms")),
        total_cost_usd=_cost(obj.get("total_cost_usd"), "total_cost_usd"),
    )
    model_usage = obj.get("modelUsage")
    if isinstance(model_usage, dict):
        for model, figures in model_usage.items():
            if not isinstance(figures, dict):
                raise ValueError(f"modelUsage[{model!r}] is not an object")
            result.models[str(model)] = ModelUsage(
                model=str(model),
                cost_usd=_cost(figures.get("costUSD"), f"modelUsage[{model!r}].costUSD"),
                **{
                    ours: _count(figures, theirs, f"modelUsage[{model!r}].")
                    for ours, theirs in _MODEL_USAGE_KEYS.items()
                },
            )
    usage = obj.get("usage")
    if isinstance(usage, dict):
        cache = usage.get("cache_creation")
        if isinstance(cache, dict):
            result.main_cache_1h = _count(
                cache, "ephemeral_1h_input_tokens", "usage.cache_creation."
            )
            result.main_cache_5m = _count(
                cache, "ephemeral_5m_input_tokens", "usage.cache_creation."
            )
        result.speed = _text(usage.get("speed"))
        result.inference_geo = _text(usage.get("inference_geo"))
        if reports_usage(result):  # a crashed run's zeros are lost usage (see fold_headless)
            _main_within_all(usage, result, main_model)
            _main_searches_counted(usage, result)
    fast = _text(obj.get("fast_mode_state"))
    if fast is not None and fast.lower() != "off":
        result.speed = "fast"
    return result


def _main_within_all(usage: dict[str, Any], result: HeadlessResult, main_model: str | None) -> None:
    """``usage`` (the main agent's) is part of what ``modelUsage`` sums over every agent: a
    count above that sum contradicts it (:class:`ContradictoryLine`), and which of the two is
    true the result does not say; taking ``modelUsage`` alone would drop the difference. Its
    cache writes are at least its split. Both are summed from the responses' top-level usage,
    which leaves a compaction's sampling out: what ``usage.iterations`` (its last request's)
    adds beyond it is counted on top of ``modelUsage`` (see :func:`_compaction_counted`)."""
    main = {name: _count(usage, name, "usage.") for name in TOKEN_FIELDS}
    split = result.main_cache_1h + result.main_cache_5m  # the main agent's cache writes too
    main["cache_creation_input_tokens"] = max(main["cache_creation_input_tokens"], split)
    result.main_models = (
        (main_model,)
        if main_model in result.models
        else tuple(
            model
            for model, figures in result.models.items()
            if all(mine <= getattr(figures, name) for name, mine in main.items())
        )
    )
    over = [
        f"usage.{name} {mine:,} above modelUsage's {every:,}"
        for name, mine in main.items()
        if mine > (every := sum(getattr(m, name) for m in result.models.values()))
    ]
    if over:
        raise ContradictoryLine(
            f"headless result contradicts itself: {'; '.join(over)} (usage is the main "
            "agent's, modelUsage every agent's, sub-agents included); expected the main agent's "
            "counts within modelUsage's"
        )
    if iterations := usage.get("iterations"):
        _compaction_counted(main, iterations, result, main_model)


def _compaction_counted(
    main: dict[str, int], iterations: Any, result: HeadlessResult, main_model: str | None
) -> None:
    """Add to ``modelUsage`` what the main agent's ``usage.iterations`` bill beyond its
    top-level counts ``main``: the iterations of a compaction (its sampling, which the
    top-level usage and so ``modelUsage`` leave out), and at least what their sum is above
    ``main`` (never low). On the main agent's model when the run's ``init`` line names one
    ``modelUsage`` lists, else on the first it lists (as web searches beyond it are). A
    stream's messages that hold the compaction are not counted twice: the result fills in only
    what they are short of (:func:`fold_headless`)."""
    inp, out, write, read = (main[name] for name in TOKEN_FIELDS)
    billed = with_iterations((inp, out, write, 0, read, 0, None, None, None), iterations)
    compaction = left_out(iterations)
    model = result.models.get(main_model or "") or next(iter(result.models.values()))
    sums = _in_fields(billed[:6])
    added = 0
    for name, summed, left in zip(TOKEN_FIELDS, sums, _in_fields(compaction), strict=True):
        extra = max(summed - main[name], left)
        setattr(model, name, getattr(model, name) + extra)
        added += extra
    if added and main_model not in result.models and len(result.models) > 1:
        result.compaction_guessed = model.model


def _in_fields(counts: tuple[int, ...]) -> tuple[int, ...]:
    """Of a line's six counts, those of :data:`TOKEN_FIELDS` (input, output, writes, reads)."""
    return counts[0], counts[1], counts[2], counts[4]


def _main_searches_counted(usage: dict[str, Any], result: HeadlessResult) -> None:
    """The main agent's web searches (``usage.server_tool_use.web_search_requests``) are part
    of what ``modelUsage`` sums over every agent, yet builds leave them out of it: where they
    are more, the larger count is the run's, the difference added to the first model
    ``modelUsage`` lists (a search costs the same whatever the model). Web fetches cost
    nothing beyond their tokens, so their count is not read."""
    server = usage.get("server_tool_use")
    if server is None:
        return
    if not isinstance(server, dict):
        raise ValueError(f"usage.server_tool_use is not an object: {server!r}")
    searches = _count(server, "web_search_requests", "usage.server_tool_use.")
    every = sum(m.web_search_requests for m in result.models.values())
    if searches > every:
        next(iter(result.models.values())).web_search_requests += searches - every


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


#: The first build known to price 1-hour cache writes at their own rate in ``costUSD``: the
#: real 2.1.207 captures' costUSD equals the price formula with their 1h split to the cent.
RIGHT_COST_FROM = (2, 1, 207)


def _version(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    try:
        return tuple(int(part) for part in text.split(".")[:3])
    except ValueError:
        return None


def _prices_1h_right(version: str | None) -> bool:
    parsed = _version(version)
    return parsed is not None and parsed >= RIGHT_COST_FROM


def reports_usage(result: HeadlessResult) -> bool:
    """The run's ``modelUsage`` reports some tokens (a crashed run reports zeros)."""
    return any(getattr(m, f) for m in result.models.values() for f in TOKEN_FIELDS)


def run_calls(result: HeadlessResult, file_calls: Iterable[ApiCall | None]) -> list[ApiCall]:
    """The run's own messages among its file's calls (None: a call the merge dropped, such as a
    ``/btw`` replay): those of its session, as every line of a stream names it (2.1.207), so
    runs appended to one file (``>> runs.ndjson``) are told apart; a call naming no session,
    or every call when the result names none, is taken as the run's."""
    session = result.session_id
    return [
        c
        for c in file_calls
        if c is not None and (session is None or c.session_id in (None, session))
    ]


def _whole_run(
    result: HeadlessResult, own_calls: Sequence[ApiCall], calls: Iterable[ApiCall]
) -> tuple[Sequence[ApiCall], str]:
    """The calls ``result``'s ``modelUsage`` covers, and what they are: its own messages, else
    (a ``--output-format json`` result) its session's calls wherever they were read."""
    if not _from_transcript(result, own_calls):
        return own_calls, "the run's messages"
    # The run's session was also read from its transcript (or its ledger): those are its
    # calls, and the summary fills in only what they are short of (the transcript of a
    # run whose sub-agents' files were not copied holds less), never dropped for less.
    # Another run's summed figures (`--resume` keeps the session id) are no transcript of
    # this one; a copy of this run's result is this run.
    mine = f"{_AGGREGATE}{result.session_id}:"
    session = [
        c
        for c in calls
        if c.session_id == result.session_id
        and (not c.message_id.startswith(mine) or c.message_id.endswith(run_key(result)))
    ]
    return session, f"its session {result.session_id}'s transcript"


#: How the message id of a headless run's summed figures begins (then its session or file,
#: its model and its :func:`run_key`).
_AGGREGATE = "headless:"


def run_key(result: HeadlessResult) -> str:
    """What tells one run's result from another's of the same session (``--resume`` keeps the
    session id): all it says of itself; two copies of one result have the same."""
    said = (
        result.duration_ms,
        result.num_turns,
        result.total_cost_usd,
        sorted((model, tuple(vars(usage).values())) for model, usage in result.models.items()),
    )
    return hashlib.sha256(repr(said).encode()).hexdigest()[:16]


def _from_transcript(result: HeadlessResult, own_calls: Sequence[ApiCall]) -> bool:
    """The run's calls are its session's, read from its transcript (no messages of its own)."""
    return not own_calls and result.session_id is not None


#: The counts a run's messages must equal (not merely fit under) for a result read beside its
#: session's transcript to settle them: the real 2.1.207 runs' messages carry their
#: ``modelUsage``'s cache counts exactly, while their input is short of it (hundreds of tokens
#: of requests no message records) and their output a placeholder.
_WHOLE_WHEN_EQUAL = ("cache_creation_input_tokens", "cache_read_input_tokens")


_NOT_WHOLE = (
    "; its modelUsage cannot be their whole (they are short of its cache counts, or above it), "
    "so the output is a lower bound: another run of the session (--resume) may be among them"
)


@dataclass
class SessionRuns:
    """The headless results of one session read from one file, weighed together: `claude -p
    --resume` appends a run under the same session id, so each result's messages cannot be
    told from the others'; their ``modelUsage`` summed is the whole of the pooled messages."""

    #: The runs' messages (:func:`run_calls`): alike for every result of one session and file.
    own_calls: Sequence[ApiCall]
    results: list[HeadlessResult] = field(default_factory=list)
    #: Of each (model, token field) of the messages, what the results folded so far took as
    #: theirs: each result adds only what the messages left to it are short of.
    taken: dict[tuple[str, str], int] = field(default_factory=dict)

    def reported(self, model: str, name: str) -> int:
        """The results' ``modelUsage`` of ``model`` summed, for token field ``name``."""
        return sum(getattr(r.models[model], name) for r in self.results if model in r.models)

    def settles(self, model: str, covered: Sequence[ApiCall]) -> bool:
        """The summed ``modelUsage`` of ``model`` can be the whole of its ``covered`` calls:
        none above it in any count (a placeholder is never above the true output; input and
        cache counts are exact on every line); read from a transcript, the cache counts equal
        to it too: short, the run's calls are not all read and nothing tells another run's
        (``--resume``: same session id, same file) from the missing ones."""
        mine = [c for c in covered if c.model == model]
        have = {name: sum(getattr(c, name) for c in mine) for name in TOKEN_FIELDS}
        from_transcript = _from_transcript(self.results[0], self.own_calls)
        if from_transcript and any(have[n] != self.reported(model, n) for n in _WHOLE_WHEN_EQUAL):
            return False
        return all(have[name] <= self.reported(model, name) for name in TOKEN_FIELDS)


def session_runs(
    runs: Iterable[tuple[Path, HeadlessResult, Sequence[ApiCall]]],
) -> list[SessionRuns]:
    """Each run's :class:`SessionRuns`, in the order of ``runs`` (file, result, its messages)."""
    groups: dict[tuple[Path, str | None], SessionRuns] = {}
    placed = []
    for path, result, own_calls in runs:
        group = groups.setdefault((path, result.session_id), SessionRuns(own_calls))
        group.results.append(result)
        placed.append(group)
    return placed


def settle_outputs(runs: SessionRuns, calls: Iterable[ApiCall]) -> None:
    """A run's messages whose output counts are placeholders (a stream writes no final line
    per message; a transcript's last response may lack its own) are made whole by its
    ``modelUsage``: :func:`fold_headless` adds what the messages of each model it reports are
    short of, so their sum is that model's true figure. ``calls``: every call read, where a
    result without messages of its own finds its session's (see :func:`_whole_run`).

    Only where ``modelUsage`` (summed over the session's results in the file) can be their
    whole (:meth:`SessionRuns.settles`): otherwise they are more than the runs' (another run
    of the same session id, ``--resume``, appended to its stream or written to its transcript,
    stopped before its result) or less (a transcript missing some of the run's calls), and
    stay lower bounds."""
    if not any(map(reports_usage, runs.results)):
        return
    covered = _whole_run(runs.results[0], runs.own_calls, calls)[0]
    for model in {model for r in runs.results for model in r.models}:
        if runs.settles(model, covered):
            for call in covered:
                if call.model == model:
                    call.output_exact = True


def fold_headless(result: HeadlessResult, runs: SessionRuns, scan: Scan) -> list[ApiCall]:
    """Record ``result`` (one of ``runs``) in ``scan`` and return the calls it adds (see the
    module doc)."""
    scan.headless.append(result)
    where = str(result.path)
    result.has_messages = bool(runs.own_calls)
    own_calls, basis = _whole_run(result, runs.own_calls, scan.calls)
    if not reports_usage(result) and not own_calls:
        # Its calls are lost as a malformed line's may be: every figure is a lower bound.
        scan.lost_usage_lines += 1
        scan.warnings.append(
            f"{where}: headless run ({result.subtype or 'no subtype'}) reports no usage at all "
            "(a crashed run reports zeros): its spend is unknown, so every figure is a lower "
            "bound"
        )
        return []
    added: list[ApiCall] = []
    for model, usage in result.models.items():
        call = _beyond_messages(result, model, usage, own_calls, runs.taken)
        if call is None:
            continue
        if own_calls:
            call.surplus = True
            # Beyond calls its modelUsage cannot be the whole of, it is as short as they are.
            call.output_exact = runs.settles(model, own_calls)
            scan.warnings.append(
                f"{where}: modelUsage reports more {model} tokens than {basis}; "
                "the difference is added to the figures (not counted as a call)"
                + ("" if call.output_exact else _NOT_WHOLE)
            )
        if not own_calls and usage.cost_usd is not None and _prices_1h_right(result.version):
            # Claude Code's own cost of the whole figure, from a build known to price it right:
            # pricing takes it wherever the table's price of a sum is only a lower bound.
            call.reported_cost = usage.cost_usd
        _price_cache_writes(call, result, usage, model, own_calls)
        if model == result.compaction_guessed:
            guessed = (
                f"{result.path}: the main agent's compaction beyond modelUsage priced at "
                f"{model}'s rates, the first model it lists (the result does not say the main "
                "agent's: another listed may cost more)"
            )
            call.cost_lower_bound = "; ".join(filter(None, (call.cost_lower_bound, guessed)))
        added.append(call)
    return added


def _beyond_messages(
    result: HeadlessResult,
    model: str,
    usage: ModelUsage,
    own_calls: Sequence[ApiCall],
    taken: dict[tuple[str, str], int],
) -> ApiCall | None:
    """The tokens ``modelUsage`` reports for ``model`` beyond the run's own messages, as one
    aggregate call; None when the messages already hold them all. ``taken``: what earlier
    results of the session in the file took of the messages as theirs (updated)."""
    where = str(result.path)
    mine = [c for c in own_calls if c.model == model]
    call = ApiCall(
        message_id=f"{_AGGREGATE}{result.session_id or where}:{model}:{run_key(result)}",
        request_id="",
        model=model,
        session_id=result.session_id,
        path=result.path,
        aggregate=True,
    )
    call.largest_request = max((c.prompt_tokens for c in mine), default=0)
    # What the sum's requests may have been billed as (a sum says it of none in particular):
    # the run's messages', else the main agent's; pricing takes them as possible, not certain.
    speeds = {c.speed for c in mine} if own_calls else {result.speed}
    geos = {c.inference_geo for c in mine} if own_calls else {result.inference_geo}
    call.speed = "fast" if "fast" in speeds else None
    call.inference_geo = ",".join(sorted(g for g in geos if g)) or None
    short = False
    for name in (*TOKEN_FIELDS, "web_search_requests"):
        have = sum(getattr(c, name) for c in mine) - taken.get((model, name), 0)
        missing = max(0, getattr(usage, name) - have)
        taken[(model, name)] = taken.get((model, name), 0) + getattr(usage, name) - missing
        setattr(call, name, missing)
        short = short or missing > 0
    return call if short else None


def _price_cache_writes(
    call: ApiCall,
    result: HeadlessResult,
    usage: ModelUsage,
    model: str,
    own_calls: Sequence[ApiCall],
) -> None:
    """Cache writes of unknown lifetime: priced at the 5-minute rate and marked as a lower bound
    (pricing takes Claude Code's own cost instead where its build prices them right)."""
    known_ttl = 0
    if len(result.models) == 1 and not own_calls:
        # One model: the main agent's split is known; sub-agents' writes are not.
        call.cache_creation_1h_tokens = min(result.main_cache_1h, call.cache_creation_input_tokens)
        known_ttl = min(
            result.main_cache_1h + result.main_cache_5m, call.cache_creation_input_tokens
        )
    if call.cache_creation_input_tokens <= known_ttl:
        return
    unknown = call.cache_creation_input_tokens - known_ttl
    call.cost_lower_bound = (
        f"{result.path}: {unknown:,} {model} cache-write tokens of unknown lifetime priced "
        "at the 5-minute rate (1-hour writes cost more), with no per-message usage "
        "or trusted costUSD to price them"
    )
