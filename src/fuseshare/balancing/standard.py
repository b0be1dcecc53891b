"""The "standard" algorithm, versions 1 to 5.

One cycle, for a snapshot taken at ``now_s``:

1. **Budget per line.** Meter fresh (v2): ``limit = min(fuse − other − margin,
   group limit − margin)`` where ``other`` is the reading minus the online
   measured current of the sessions being allocated (outlet active) or the
   reading itself. No fresh
   reading, or no meter, or v1: the offline budget (never above the fuse or the
   group limit; no margin, because the offline budget is not a measurement),
   lowered per line where the snapshot says the building leaves less
   (``Snapshot.offline_budget_a``, every version).
   Chargers that lost their link are reserved ``max(failsafe, last setpoint while
   it may still be applied)`` on every line they are wired to; their measured
   current is not subtracted from the reading (it is stale), so their real draw
   is counted twice, which errs on the safe side.
2. **What each session loads.** Per grid line, per ampere offered
   (:func:`topology.line_factors`), for the phases the car uses: given by the
   caller, or (v2) learned from the charger's terminal currents and only ever
   grown within a session (:func:`topology.heavier_car_phases`); until then the
   car that loads the wiring most: every phase the charger is wired to, and on a
   three-line IT charger a car on two windings, twice on the middle line.
3. **Who charges.** Sessions are ordered (v2: sessions inside their minimum on
   time first, then the least served per weight, where served is the
   ampere-seconds offered so far; sessions inside their minimum off time are
   left out; v1: by weight, then id) and admitted greedily while their minimum
   still fits on every line. So paused sessions rotate: whoever has had least
   gets the next turn, at most every ``min_on_s``.
4. **How much.** Weighted water-filling between the group min and each
   session's cap: charger max, membership limit, car max (never below the min),
   and (v2) "car draws less": a car drawing ``unused_threshold_a`` below its
   settled offer is capped at its draw + ``unused_headroom_a``, released as soon
   as it uses that headroom, and probed with its full share every
   ``probe_interval_s`` for ``probe_duration_s``.
5. **Stability (v2).** Decreases go out at once. Increases are paced
   (``increase_interval_s``), skipped below ``deadband_a``, and may only use room
   that is free while every charger still draws its previous setpoint, so
   current released in this cycle is handed out in the next.

Version 3 changes three things (each a :class:`Features` flag, so 1 and 2 keep
their behaviour): the cars' share of the reading is estimated from the limits
they may be following (:func:`_add_estimate`), increases may only use room that
every reading of the last ``increase_hold_s`` left (:func:`_hold_increases`), and
sessions inside their minimum off time may take room that everyone else leaves.

Version 4 changes these (again behind :class:`Features` flags and version 4
tunable defaults): paused sessions are ranked by the energy their cars drew (measured
current times the power per ampere of their phases, :func:`_drawn_power`) instead of
the amperes offered, so a one-phase car is not taken as served like a three-phase
one; increases and starts keep ``increase_margin_fraction`` of each line's reading
free on top of the margin (meter noise grows with the current, and a raise taken back
within the reaction time still lands), below the fuse only (``noise_on_fuse_only``: the
group limit bounds setpoints, not a reading); an increase below the deadband is sent
once the setpoint has stood ``small_increase_after_s``; and a paused session is
admitted only when its minimum also fits the room increases may use (after the
minima of the sessions before it), and the shares on its lines are sized on that room (``starts_on_held_room``, :func:`_select_starts_held`,
:func:`_room_for_starts`): a start admitted on a noisy reading used to cut everyone
for a car that could not start, or to wait for good for a release the others' shares
never left.

Version 5 (``shares_by_needs``, :func:`_weigh_by_needs`) shares by what cars say they
need where they say it (energy and departure: ISO 15118 through OCPP 2.0.1
NotifyEVChargingNeeds): paused sessions rotate by the share of their wanted energy
they will have had by their departure, and water-filling weights follow the current
each needs to be done by then. Fairness is scored over delivered/requested energy, and
a car that leaves soon has fewer turns ahead. Without needs it is version 4.

Invariants (tested with hypothesis): on every line, the sessions' load plus the
reservations never exceeds the line's limit; every session's current is 0 or
between the group min and its hard maxima; the output depends only on the input.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import NamedTuple

from fuseshare.balancing.algorithm import AllocationResult
from fuseshare.balancing.allocation import (
    Allocation,
    ChargerAllocation,
    LimitSource,
    LineBudget,
    Reason,
    ReasonCode,
)
from fuseshare.balancing.fill import (
    INF,
    Factors,
    FillItem,
    blocking_line,
    fits,
    select_fitting,
    water_fill,
)
from fuseshare.balancing.planning import (
    BANDS,
    FINE_BANDS,
    MAX_PLANNED_SESSIONS,
    PLAN_EVERY_S,
    PlanSession,
    plan_currents,
)
from fuseshare.balancing.snapshot import ChargerInput, GroupConfig, Snapshot, Tunables
from fuseshare.balancing.state import AlgorithmState, SessionState
from fuseshare.balancing.topology import (
    ALL_LINES,
    Grid,
    Line,
    assumed_car_phases,
    car_current_a,
    heavier_car_phases,
    heaviest_car_phases,
    learn_car_phases,
    line_factors,
    power_per_ampere,
    wired_phase_count,
)
from fuseshare.balancing.units import PerLine

_LINE_INDEX: dict[Line, int] = {"L1": 0, "L2": 1, "L3": 2}
_NO_SESSION = Reason(ReasonCode.NO_SESSION, "no session")
_ZERO = PerLine()


@lru_cache(maxsize=4096)
def _factors(grid: Grid, wiring: tuple[Line, ...], car_phases: int) -> Factors:
    by_line = line_factors(grid, wiring, car_phases)
    return (by_line.get("L1", 0.0), by_line.get("L2", 0.0), by_line.get("L3", 0.0))


@lru_cache(maxsize=4096)
def _plan_factors(grid: Grid, wiring: tuple[Line, ...], car_phases: int | None) -> Factors:
    """Factors to plan with: the known/learned phases, else the car that loads the
    wiring most (every wired phase; twice the middle line of a three-line IT charger)."""
    if car_phases is None:
        return _factors(grid, wiring, heaviest_car_phases(grid, wiring))
    return _factors(grid, wiring, assumed_car_phases(grid, wiring, car_phases))


@lru_cache(maxsize=4096)
def _heaviest(grid: Grid, wiring: tuple[Line, ...]) -> int:
    return heaviest_car_phases(grid, wiring)


@lru_cache(maxsize=4096)
def _heavier(grid: Grid, wiring: tuple[Line, ...], known: int | None, seen: int) -> int:
    return heavier_car_phases(grid, wiring, known, seen)


@lru_cache(maxsize=4096)
def _line_indices(wiring: tuple[Line, ...]) -> tuple[int, ...]:
    return tuple(_LINE_INDEX[line] for line in wiring)


@lru_cache(maxsize=256)
def _line_reason(source: LimitSource, line_index: int) -> Reason:
    line = ALL_LINES[line_index]
    return Reason(source.reason_code, source.describe(line), line)


def _per_line(factors: Factors, current_a: float) -> PerLine:
    return PerLine(factors[0] * current_a, factors[1] * current_a, factors[2] * current_a)


def _floor_to(value_a: float, step_a: float) -> float:
    """Round down to the setpoint resolution (a hair of float noise tolerated)."""
    if step_a <= 0:
        return value_a
    per_a = 1.0 / step_a
    steps = math.floor(value_a * per_a + 1e-9)
    if abs(per_a - round(per_a)) < 1e-9:
        return steps / round(per_a)  # exact for 0.1 A, 0.5 A, 1 A steps
    return round(steps * step_a, 6)


def _fmt(value_a: float) -> str:
    return f"{value_a:.1f} A"


@lru_cache(maxsize=1024)
def _cap_reason(code: ReasonCode, value_a: float) -> Reason:
    text = {
        ReasonCode.CHARGER_MAX: "charger max {}",
        ReasonCode.MEMBERSHIP_MAX: "membership limit {}",
        ReasonCode.CAR_MAX: "car max {}",
        ReasonCode.CAR_DRAWS_LESS: "car draws less: capped at {}",
    }[code]
    return Reason(code, text.format(_fmt(value_a)))


_WAITING_ROOM = Reason(
    ReasonCode.WAITING_RELEASE, "waiting for room to start that stays free (meter noise)"
)
_PLANNED_LATER_REASON = Reason(
    ReasonCode.PAUSED_PLAN, "paused: planned later (others leave sooner or need more)"
)
_CAR_FULL = Reason(ReasonCode.CAR_FULL, "car wants no energy: kept at min")
_PAUSED_FULL = Reason(
    ReasonCode.PAUSED_FULL, "paused: car wants no energy (its minimum goes to cars that do)"
)
_FULL_GROUP = 3
"""Order group of sessions whose car wants no energy (with ``full_cars_last``): last."""


class Features(NamedTuple):
    """What a version does beyond static sharing of the offline budget."""

    use_meter: bool
    learn_phases: bool
    unused_capacity: bool
    rotation: bool
    pacing: bool
    estimate_draws: bool = False
    """Take each following car's draw as the lowest limit it may still be following
    (and a car that takes less than offered as its sample), instead of its last sample."""
    spare_room_restarts: bool = False
    """Sessions inside their minimum off time may restart on room that every other
    session leaves over (after a cut that went too deep, capacity is not left idle)."""
    served_by_energy: bool = False
    """Rotation ranks sessions by the energy their cars drew (measured current times
    the power per ampere of the phases they use), not by the amperes offered: a
    one-phase car gets a third of a three-phase car's energy for the same offer, and
    a car that takes less than offered is not served by what it leaves."""
    starts_on_held_room: bool = False
    """A session that is not running is admitted only when its minimum also fits the
    room increases may use (held and noise-kept, :func:`_hold_increases`), not just the
    latest reading's: a start judged on a noisy reading cut everyone to make room for a
    car that then could not start, and they were raised again a few seconds later."""
    noise_on_fuse_only: bool = False
    """The noise margin of increases (``increase_margin_fraction``) is kept only below
    the fuse, whose room comes from the reading, not below the group limit, which
    bounds the chargers' own setpoints and has no meter noise in it."""
    shares_by_needs: bool = False
    """Sessions whose cars said what they want and when they leave
    (``ChargerInput.energy_wanted_kwh``, ``departure_s``) are shared by that: rotation
    ranks every session by the fraction of its wanted energy it will have had by its
    departure on an average share from now on, and each session's share grows with the
    current it needs to get the rest by its departure (:func:`_weigh_by_needs`).
    Sessions that said nothing count as the middle one of those that did."""
    plans_by_needs: bool = False
    """Where cars said what they need, a plan over the time until they leave
    (:mod:`planning`, made again every minute) weighs and orders the sessions: shares
    follow the plan's current for each now, and a session the plan runs later waits
    unless its minimum fits beside the others' planned currents."""
    full_cars_last: bool = False
    """A session whose car wants no energy (it is full, or waits on a timer of its own)
    is admitted after every session whose car wants some, with no minimum on time to
    protect it, and once paused it stays paused for the minimum off time: it keeps its
    minimum only on room that the others leave over. Before, such a car that had been
    restarted held its minimum for the whole minimum on time, drawing nothing, while
    cars that wanted energy waited for it. Once paused its charger shows SuspendedEVSE,
    which says nothing about the car: it counts as full until it draws again or the
    probe interval has passed since it last said so (:func:`_remember_full`)."""
    fine_fairness: bool = False
    """The plan evens the fractions of wanted energy out in twentieths, not tenths
    (:data:`planning.FINE_BANDS`). Within a band energy decides, so with tenths a
    one-phase car on a busy line was held up to a tenth below three-phase cars, which
    bring more energy per ampere of it."""
    fresh_draws: bool = False
    """A car's draw is at least what a sample taken under its present limit shows
    (``ChargerInput.drawn_low_a``), not only the lowest limit it may still be following.
    A car that follows a raise in 2 s instead of IEC's 5 s showed up in the reading as
    the building's load for the rest of those 5 s: the room shrank by its own current,
    it was paused, restarted on the room that freed, and paused again (8 952 pauses on
    an evening of such cars, 46 % of the bound). The loop asks for that sample 2 s after
    each raise (``Tunables.raise_sample_after_s``) and gives it only where the car may
    not still go up to a higher limit and has not shown it is slower than IEC."""
    less_while_moving: bool = False
    """A car whose sample lies well below every limit it may have been following when it
    was taken (``ChargerInput.sample_follow_low_a``) takes less than offered, and its
    draw is that sample, as for a sample taken under a settled limit. Before, only a
    settled limit showed it: a car taking 13 A under a limit that moved between 16 and
    28 A every few seconds was counted on its limit, the rest of the building looked
    smaller than it was, and once the car was cut toward its draw the others' limits
    had been sized on room that was not there (0.4 A over the fuse for 7 s in a random
    soak)."""
    plan_weighs_alone: bool = False
    """A session the plan runs now gets a share in proportion to its planned current
    times its priority only. Before, the share was also scaled by the current it needs
    (version 5's weight), which the plan had weighed already: a car that leaves soon
    counted twice, held 25 A where the plan gave it and two others 16.5 A each, and the
    others, frozen at their minimum by the lines it filled, left a third line a third
    empty."""
    plan_knows_turns: bool = False
    """The plan knows the turns: a session inside its minimum on time keeps at least its
    minimum until that ends, one inside its minimum off time gets nothing until then,
    and between plans of equal worth the one that keeps the running sessions running
    wins (:func:`_with_turns`, :data:`planning.KEEP_RUNNING`). Without them the plan
    gave the room that sessions kept on for their on time held to others, which then
    did not fit and waited, and picked anew every minute among the many equal plans of
    its programme which sessions ran: each start it changed its mind about held a
    minimum for 15 minutes (688 pauses on the office day, 128 with it)."""


class _Budget(NamedTuple):
    room: list[float]
    """Per line index: what the chargers together may draw (INF on absent lines)."""
    sources: list[LimitSource]
    other: list[float | None]
    reserved: list[float]
    meter_online: bool


class _Candidate(NamedTuple):
    pos: int
    """Position in snapshot.chargers."""
    charger: ChargerInput
    session: SessionState
    factors: Factors
    weight: float
    lo_a: float
    hi_a: float
    cap_reason: Reason
    order_key: tuple[int, int, float, str]
    excluded: bool
    """Inside its minimum off time: not admitted this cycle."""
    fill: FillItem


_ORDER = itemgetter(8)  # _Candidate.order_key
# NamedTuple construction through tuple.__new__ skips the generated Python-level
# __new__: about three times faster in the per-charger hot loops.
_new = tuple.__new__


def _reserve_offline(ch: ChargerInput, now_s: float, t: Tunables) -> float:
    """What a charger that lost its link may draw: its failsafe current, or its last
    dynamic setpoint while that may still be in force."""
    may_still_apply = ch.last_seen_s is None or now_s - ch.last_seen_s < t.setpoint_lifetime_s
    last = ch.setpoint_a if may_still_apply else 0.0
    return max(0.0, ch.failsafe_current_a, last)


def _budget(
    snap: Snapshot,
    features: Features,
    reserved: list[float],
    measured: list[float],
    meter_max_age_s: float,
) -> _Budget:
    cfg = snap.config
    meter = snap.meter
    meter_online = (
        features.use_meter
        and cfg.has_meter
        and meter is not None
        and snap.now_s - meter.read_at_s <= meter_max_age_s
        # A reading that is not a number is no reading (NaN would compare as room).
        and all(math.isfinite(v) for v in meter.currents_a)
    )
    room = [INF, INF, INF]
    sources = [LimitSource.STATIC_BUDGET] * 3
    other: list[float | None] = [None, None, None]
    offline = cfg.effective_offline_a
    lowered = snap.offline_budget_a
    for line in cfg.grid.lines:
        p = _LINE_INDEX[line]
        if meter_online and meter is not None:
            reading = max(0.0, meter.currents_a[p])
            rest = max(0.0, reading - measured[p]) if cfg.outlet_active else reading
            fuse_room = cfg.max_supply_current_a - rest - cfg.margin_a
            group_room = cfg.max_current_online_a - cfg.margin_a
            other[p] = rest
            if fuse_room <= group_room:
                room[p], sources[p] = fuse_room, LimitSource.MAIN_FUSE
            else:
                room[p], sources[p] = group_room, LimitSource.GROUP_LIMIT
        else:
            room[p] = offline if lowered is None else min(offline, lowered[p])
            if not features.use_meter:
                sources[p] = LimitSource.STATIC_BUDGET
            elif not cfg.has_meter:
                sources[p] = LimitSource.NO_METER
            else:
                sources[p] = LimitSource.OFFLINE_BUDGET
    return _Budget(room, sources, other, reserved, meter_online)


def _add_estimate(
    measured: list[float],
    ch: ChargerInput,
    fac: Factors,
    drawn_a: float,
    tolerance_a: float,
    fresh: bool = False,
    unsettled_less: bool = False,
) -> None:
    """Add what a session's car draws, as of the meter reading, to ``measured`` (per line).

    A car follows its limit within its reaction time, so at the reading it draws at
    least the lowest limit it may still be following, unless it takes less than it is
    offered: a sample taken while the limit stood still that is well below that limit
    shows such a car, and then its sample (never above that lowest limit) is its draw.
    Erring low only makes the rest of the building look larger. Erring high (a car
    that just began to take less) is covered by the car itself: it stays planned at
    no less than this estimate, and what it does not take is the difference.

    ``fresh`` (``Features.fresh_draws``): a sample taken under the limit in effect at the
    reading (``ChargerInput.drawn_low_a``) raises that least: a car that followed a raise
    before its reaction time was up draws it, and its current is not the building's.

    ``unsettled_less`` (``Features.less_while_moving``): a sample well below every limit
    the car may have been following when it was taken shows a car that takes less than
    offered just as a settled one does, also while its limit keeps moving.
    """
    low = ch.follow_low_a or 0.0
    if fresh and ch.drawn_low_a is not None and ch.drawn_low_a > low:
        low = ch.drawn_low_a
    sample = ch.measured_a
    settled = ch.sample_settled_limit_a
    if unsettled_less and ch.sample_follow_low_a is not None:
        settled = ch.sample_follow_low_a
    if sample and settled is not None and drawn_a < settled - tolerance_a:
        for p, value in zip(_line_indices(ch.wiring), sample, strict=False):
            drawn = min(value, low * fac[p])
            if drawn > 0.0:
                measured[p] += drawn
        return
    if low > 0.0:
        measured[0] += fac[0] * low
        measured[1] += fac[1] * low
        measured[2] += fac[2] * low


@lru_cache(maxsize=4096)
def _power(grid: Grid, wiring: tuple[Line, ...], car_phases: int | None) -> float:
    return power_per_ampere(grid, wiring, assumed_car_phases(grid, wiring, car_phases))


def _drawn_power(ch: ChargerInput, grid: Grid, phases: int | None, drawn_a: float) -> float:
    """What a session's car draws now, as power in units of one 230 V winding.

    The car's current (:func:`topology.car_current_a`: a car on two IT windings puts
    twice its current on the middle terminal); with no sample yet, the offered
    setpoint stands in. Times the power per ampere of the phases it is planned with,
    so energies of one- and three-phase cars compare.
    """
    draw = drawn_a if ch.measured_a else ch.setpoint_a
    if draw <= 0.0:
        return 0.0
    return draw * _power(grid, ch.wiring, phases)


def _caps(
    ch: ChargerInput, lo: float, draws_less_cap: float | None, car_wants: bool
) -> tuple[float, Reason] | None:
    """The session's upper bound and its reason; None when the hard maxima are below min."""
    hi = ch.max_current_a
    code = ReasonCode.CHARGER_MAX
    m = ch.membership_max_current_a
    if m is not None and m < hi:
        hi = m
        code = ReasonCode.MEMBERSHIP_MAX
    if hi < lo:
        return None
    car = ch.car_max_current_a
    if car is not None and max(car, lo) < hi:
        hi = max(car, lo)
        code = ReasonCode.CAR_MAX
    if not car_wants:
        return lo, _CAR_FULL
    if draws_less_cap is not None and draws_less_cap < hi:
        hi = max(lo, draws_less_cap)
        code = ReasonCode.CAR_DRAWS_LESS
    # The car's own max is shown as the car reports it, even when the min is offered.
    shown = car if code is ReasonCode.CAR_MAX and car is not None else hi
    return hi, _cap_reason(code, shown)


def _remember_full(
    ch: ChargerInput, prev: SessionState, now_s: float, probe_s: float, drawing_a: float
) -> tuple[SessionState, bool]:
    """Whether a session's car wants energy as ``full_cars_last`` sees it, and its memory.

    A car that says it wants nothing (``SuspendedEV``: offered current, it takes none) is
    full until it draws again. Once paused, its charger shows ``SuspendedEVSE`` (nothing
    offered), which says nothing about the car: it counts as full for ``probe_s`` after
    it last said so, then it gets a turn again (a car that waits on a timer of its own
    would else never be seen to want). Without this, a paused full car looked like one
    that wants, was restarted, said it was full, and was paused again, every few seconds.
    """
    said = prev.full_said_s
    if not ch.wants_energy:
        return (prev if said == now_s else prev._replace(full_said_s=now_s)), False
    if said is None:
        return prev, True
    sampled_s = now_s if ch.measured_at_s is None else ch.measured_at_s
    if ch.measured_a and sampled_s > said and max(ch.measured_a) >= drawing_a:
        return prev._replace(full_said_s=None), True  # drawing since it said: it wants
    return prev, now_s - said >= probe_s


def _draws_less(
    ch: ChargerInput, prev: SessionState, lo: float, draw: float, now_s: float, t: Tunables
) -> SessionState:
    """Update the 'car draws less' cap and probing of one session from its meter values
    (``draw``: the car's current in them, :func:`topology.car_current_a`)."""
    if not ch.measured_a or not ch.wants_energy:
        return prev
    cap, cap_since, probe_until = prev.cap_a, prev.cap_since_s, prev.probe_until_s
    if probe_until is not None:
        if now_s < probe_until:
            return prev
        probe_until = None
    if cap is not None:
        if draw >= cap - t.unused_headroom_a / 2:
            cap, cap_since = None, None  # it wants more: give it its share again
        elif cap_since is not None and now_s - cap_since >= t.probe_interval_s:
            cap, cap_since, probe_until = None, None, now_s + t.probe_duration_s
        else:
            cap = max(lo, min(cap, draw + t.unused_headroom_a))
    else:
        # Judge the car by a sample taken after it had time to follow its setpoint;
        # a sample from before a raise says nothing about what the car would take now.
        sampled_s = now_s if ch.measured_at_s is None else min(now_s, ch.measured_at_s)
        settled = (
            ch.setpoint_a >= lo
            and ch.setpoint_since_s is not None
            and sampled_s - ch.setpoint_since_s >= t.response_s
        )
        if settled and ch.setpoint_a - draw >= t.unused_threshold_a:
            cap, cap_since = max(lo, draw + t.unused_headroom_a), now_s
    if cap == prev.cap_a and cap_since == prev.cap_since_s and probe_until == prev.probe_until_s:
        return prev
    return prev._replace(cap_a=cap, cap_since_s=cap_since, probe_until_s=probe_until)


_V2_TUNABLES = Tunables()


@dataclass(frozen=True, slots=True)
class StandardAlgorithm:
    """The "standard" algorithm at one version (see the module docstring)."""

    version: int
    features: Features
    description: str
    name: str = "standard"
    defaults: Tunables = _V2_TUNABLES
    """The timing knobs of this version, for groups whose configuration sets none."""

    def tunables(self, config: GroupConfig) -> Tunables:
        """What this version runs a group with: the group's own knobs, else its defaults."""
        return config.tunables or self.defaults

    def initial_state(self) -> AlgorithmState:
        return AlgorithmState()

    def allocate(self, snapshot: Snapshot, state: AlgorithmState) -> AllocationResult:
        return _allocate(self, snapshot, state)


def _allocate(algo: StandardAlgorithm, snap: Snapshot, state: AlgorithmState) -> AllocationResult:
    features = algo.features
    rotation = features.rotation
    cfg: GroupConfig = snap.config
    t = cfg.tunables or algo.defaults
    grid = cfg.grid
    now = snap.now_s
    lo = cfg.effective_min_a
    dt = 0.0
    if state.now_s is not None:
        dt = min(max(0.0, now - state.now_s), t.max_gap_s)

    chargers = snap.chargers
    n = len(chargers)
    results: list[ChargerAllocation | None] = [None] * n
    new_sessions: dict[str, SessionState] = {}
    reserved = [0.0, 0.0, 0.0]
    measured = [0.0, 0.0, 0.0]
    setpoint_load = [0.0, 0.0, 0.0]
    candidates: list[_Candidate] = []
    paused_max: list[tuple[int, SessionState]] = []
    # Hot loop (thousands of chargers): names looked up once.
    sessions_get = state.sessions.get
    outlet = cfg.outlet_active
    learn = features.learn_phases
    unused = features.unused_capacity
    learn_min_a = t.learn_min_a
    estimate = features.estimate_draws
    fresh = features.fresh_draws
    less_moving = features.less_while_moving
    follow_tolerance_a = t.unused_threshold_a
    min_on_s = t.min_on_s
    min_off_s = t.min_off_s
    by_energy = features.served_by_energy
    full_last = features.full_cars_last
    add_candidate = candidates.append

    for idx, ch in enumerate(chargers):
        wiring = ch.wiring
        if not ch.online:
            amount = _reserve_offline(ch, now, t)
            fac = _plan_factors(grid, wiring, None)
            reserved[0] += fac[0] * amount
            reserved[1] += fac[1] * amount
            reserved[2] += fac[2] * amount
            results[idx] = ChargerAllocation(
                ch.charger_id,
                0.0,
                Reason(ReasonCode.CHARGER_OFFLINE, f"charger offline: {_fmt(amount)} reserved"),
                0.0,
                amount,
                _per_line(fac, amount),
                False,
            )
            kept = sessions_get(ch.charger_id)
            if kept is not None and kept.session_id == ch.session_id:
                new_sessions[ch.charger_id] = kept
            continue
        if ch.session_id is None:
            if ch.setpoint_a > 0.0:
                fac = _plan_factors(grid, wiring, None)
                for p in range(3):
                    setpoint_load[p] += fac[p] * ch.setpoint_a
            results[idx] = _new(
                ChargerAllocation,
                (ch.charger_id, 0.0, _NO_SESSION, 0.0, 0.0, _ZERO, ch.setpoint_a != 0.0),
            )
            continue

        prev = sessions_get(ch.charger_id)
        known = True
        if prev is None or prev.session_id != ch.session_id:
            prev = SessionState(ch.session_id)
            known = False
        elif dt > 0.0 and ch.setpoint_a > 0.0 and not by_energy:
            sid, on, switched, served, phases_, cap, cap_since, probe, full_s = prev
            served += ch.setpoint_a * dt
            prev = _new(
                SessionState, (sid, on, switched, served, phases_, cap, cap_since, probe, full_s)
            )

        phases = ch.car_phases
        if phases is None and learn:
            phases = prev.car_phases
            if ch.measured_a and phases != _heaviest(grid, wiring):
                seen = learn_car_phases(grid, wiring, ch.measured_a, learn_min_a)
                if seen is not None:
                    grown = _heavier(grid, wiring, phases, seen)
                    if grown != phases:
                        phases = grown
                        prev = prev._replace(car_phases=grown)
        fac = _plan_factors(grid, wiring, phases)
        drawn_a = car_current_a(grid, wiring, ch.measured_a) if ch.measured_a else 0.0
        if by_energy and known and dt > 0.0:
            drawn = _drawn_power(ch, grid, phases, drawn_a)
            if drawn > 0.0:
                prev = prev._replace(served_as=prev.served_as + drawn * dt)
        sp = ch.setpoint_a
        if sp > 0.0:
            setpoint_load[0] += fac[0] * sp
            setpoint_load[1] += fac[1] * sp
            setpoint_load[2] += fac[2] * sp

        if unused:
            prev = _draws_less(ch, prev, lo, drawn_a, now, t)
            draws_less_cap = None if prev.probe_until_s is not None else prev.cap_a
        else:
            draws_less_cap = None
        car_wants = ch.wants_energy
        if full_last:
            prev, car_wants = _remember_full(ch, prev, now, t.probe_interval_s, learn_min_a)
        caps = _caps(ch, lo, draws_less_cap, car_wants)
        if caps is None:
            paused_max.append((idx, prev))
            continue
        if outlet and estimate and ch.follow_low_a is not None:
            _add_estimate(measured, ch, fac, drawn_a, follow_tolerance_a, fresh, less_moving)
        elif outlet and ch.measured_a:
            # Only a session's own draw is taken out of the reading, because its
            # allocation takes its place; anything else a charger draws (no
            # session known, paused for its max) stays in the rest of the building.
            for p, value in zip(_line_indices(wiring), ch.measured_a, strict=False):
                if value > 0.0:
                    measured[p] += value
        weight = ch.weight if ch.weight > 1e-3 else 1e-3
        # Admission order (smaller first); sessions inside their min off time stay off.
        wants = 0 if car_wants else 1
        excluded = False
        if not rotation:
            key = (0, wants, -weight, ch.charger_id)
        elif wants and full_last:
            since = prev.switched_s
            excluded = not prev.on and since is not None and now - since < min_off_s
            key = (_FULL_GROUP, wants, prev.served_as / weight, ch.charger_id)
        elif prev.on:
            since = prev.switched_s
            group = 0 if since is not None and now - since < min_on_s else 1
            key = (group, wants, prev.served_as / weight, ch.charger_id)
        else:
            since = prev.switched_s
            excluded = since is not None and now - since < min_off_s
            key = (2 if excluded else 1, wants, prev.served_as / weight, ch.charger_id)
        hi = caps[0]
        fill = _new(FillItem, (weight, lo, hi, fac))
        add_candidate(
            _new(_Candidate, (idx, ch, prev, fac, weight, lo, hi, caps[1], key, excluded, fill))
        )

    budget = _budget(snap, features, reserved, measured, t.meter_max_age_s)
    room = [budget.room[p] - reserved[p] for p in range(3)]
    recent, pace_room = _hold_increases(
        snap,
        state,
        budget,
        room,
        t.increase_hold_s,
        t.increase_margin_fraction,
        features.noise_on_fuse_only,
    )

    if features.shares_by_needs:
        candidates = _weigh_by_needs(candidates, grid, now)
    plan: Mapping[str, float] = {}
    planned_s: float | None = None
    if features.plans_by_needs:
        bands = FINE_BANDS if features.fine_fairness else BANDS
        turns = (t.min_on_s, t.min_off_s) if features.plan_knows_turns else None
        plan, planned_s = _plan(candidates, room, grid, now, state, bands, turns)
        if plan:
            candidates = _follow_plan(candidates, plan, features.plan_weighs_alone)
    candidates.sort(key=_ORDER)
    # Sessions inside their min off time sort last: with spare-room restarts they get
    # only what remains once everyone else's minimum is in.
    eligible = (
        candidates if features.spare_room_restarts else [c for c in candidates if not c.excluded]
    )
    if full_last:  # a car that wants nothing is not restarted early
        eligible = [c for c in eligible if not (c.excluded and c.order_key[0] == _FULL_GROUP)]
    if features.starts_on_held_room:
        picked = _select_starts_held(eligible, room, pace_room)
    else:
        picked, _left = select_fitting([c.fill for c in eligible], room)
    chosen = [c for c, ok in zip(eligible, picked, strict=True) if ok]
    if plan:
        chosen = _waiting_on_spare(chosen, room, plan)
    fill_room = room
    start_check = features.starts_on_held_room
    if start_check:
        fill_room = _room_for_starts(chosen, room, pace_room)
    x, bound = water_fill([c.fill for c in chosen], fill_room)

    finals: dict[int, tuple[float, float, Reason]] = {}
    committed = list(setpoint_load)
    step = t.resolution_a
    per_a = 1.0 / step if step > 0 else 0.0
    exact = step > 0 and abs(per_a - round(per_a)) < 1e-9
    whole = round(per_a)
    for c, value, b in zip(chosen, x, bound, strict=True):
        rounded = math.floor(value * per_a + 1e-9) / whole if exact else _floor_to(value, step)
        hi = c.hi_a
        target = rounded if rounded < hi else hi
        if target < c.lo_a:
            target = c.lo_a
        reason = _line_reason(budget.sources[b], b) if b >= 0 else c.cap_reason
        finals[c.pos] = (target, target, reason)
    if features.pacing:
        _pace(chosen, finals, committed, pace_room, now, t)

    used = [0.0, 0.0, 0.0]
    for c in candidates:
        ch = c.charger
        final = finals.get(c.pos)
        if final is not None:
            current, target, reason = final
        else:
            current, target = 0.0, 0.0
            reason = _paused_reason(c, room, budget, t, now, rotation)
            if full_last and c.order_key[0] == _FULL_GROUP:
                reason = _PAUSED_FULL
            if reason.code is ReasonCode.PAUSED_ROTATION and _waits(c):
                reason = _PLANNED_LATER_REASON
            if (
                start_check
                and reason.code is ReasonCode.PAUSED_ROTATION
                and not fits(c.factors, c.lo_a, pace_room)
            ):
                reason = _WAITING_ROOM
        f0, f1, f2 = c.factors
        l1, l2, l3 = f0 * current, f1 * current, f2 * current
        used[0] += l1
        used[1] += l2
        used[2] += l3
        results[c.pos] = _new(
            ChargerAllocation,
            (
                ch.charger_id,
                current,
                reason,
                target,
                0.0,
                _new(PerLine, (l1, l2, l3)),
                current != ch.setpoint_a,
            ),
        )
        session = c.session
        on = current > 0.0
        new_sessions[ch.charger_id] = (
            session if on == session.on else session._replace(on=on, switched_s=now)
        )

    for idx, prev in paused_max:
        ch = chargers[idx]
        results[idx] = ChargerAllocation(
            ch.charger_id,
            0.0,
            Reason(
                ReasonCode.PAUSED_MAX_BELOW_MIN,
                f"paused: charger max below the group min {_fmt(lo)}",
            ),
            0.0,
            0.0,
            PerLine(),
            ch.setpoint_a != 0.0,
        )
        new_sessions[ch.charger_id] = _switch(prev, False, now)

    lines = tuple(
        LineBudget(
            line,
            budget.sources[p],
            budget.room[p],
            budget.other[p],
            reserved[p],
            used[p],
        )
        for line in grid.lines
        for p in (_LINE_INDEX[line],)
    )
    allocation = Allocation(
        algo.name,
        algo.version,
        now,
        budget.meter_online,
        tuple(r for r in results if r is not None),
        lines,
    )
    return AllocationResult(allocation, AlgorithmState(now, new_sessions, recent, plan, planned_s))


_AS_PER_KWH = 3.6e6 / 230.0
"""Ampere-seconds of one 230 V winding per kWh (the unit of ``SessionState.served_as``)."""
NEEDS_HORIZON_FLOOR_S = 900.0
"""A departure closer than this (or past) is taken as this far away: a car that stays
longer than it said must not claim the whole group."""


def _weigh_by_needs(candidates: list[_Candidate], grid: Grid, now_s: float) -> list[_Candidate]:
    """Re-rank and re-weigh sessions by what their cars said they need.

    Rotation (the third part of the order key) becomes the fraction of its wanted energy
    a session will have had by its departure if from now on it gets the average session's
    share (the power offered now over the sessions), per unit of priority: a car that
    leaves soon has fewer turns ahead, so it goes before one equally served that stays
    the night. Water-filling weights become the priority times the current a session
    needs to get the rest of its energy by its departure, over the middle such need
    among the sessions that told it. A session that told nothing (or no departure)
    counts as the middle told one in what it lacks. Told nothing at all: the ranking and
    weights of :data:`Features.served_by_energy` stay.
    """
    wants: list[float | None] = []
    needs: list[float | None] = []
    lefts: list[float | None] = []
    offered = 0.0
    for c in candidates:
        per_a, wanted_as, left = _told(c, grid, now_s)
        if c.charger.setpoint_a > 0.0:
            offered += c.charger.setpoint_a * per_a
        lefts.append(left)
        wants.append(wanted_as)
        if wanted_as is None or left is None or per_a <= 0.0:
            needs.append(None)
            continue
        rest_as = max(0.0, wanted_as - c.session.served_as)
        needs.append(rest_as / max(left, NEEDS_HORIZON_FLOOR_S) / per_a)
    ref_want = _middle(wants)
    if ref_want == 0.0:
        return candidates
    ref_need = _middle(needs)
    ref_left = _middle(lefts)
    rate = offered / len(candidates)
    out: list[_Candidate] = []
    for c, want, need, left in zip(candidates, wants, needs, lefts, strict=True):
        share = c.weight
        if need is not None and ref_need > 0.0:
            share = max(1e-3, c.weight * need / ref_need)
        group, wanting, _served, cid = c.order_key
        # What it will have had by its departure if it gets an average share from now on.
        projected = c.session.served_as + rate * (ref_left if left is None else left)
        key = (group, wanting, projected / ((want or ref_want) * c.weight), cid)
        fill = _new(FillItem, (share, c.lo_a, c.hi_a, c.factors))
        out.append(c._replace(weight=share, order_key=key, fill=fill))
    return out


def _told(c: _Candidate, grid: Grid, now_s: float) -> tuple[float, float | None, float | None]:
    """A session's power per ampere, and what its car told: the energy it wants (in
    the unit of ``served_as``) and the seconds to its departure (None: not told;
    NaN, zero, negative or infinite energy counts as not told)."""
    ch = c.charger
    phases = ch.car_phases if ch.car_phases is not None else c.session.car_phases
    per_a = _power(grid, ch.wiring, phases)
    dep = ch.departure_s
    left = max(0.0, dep - now_s) if dep is not None and math.isfinite(dep) else None
    wanted = ch.energy_wanted_kwh
    if wanted is None or not 0.0 < wanted < math.inf:  # NaN fails too
        return per_a, None, left
    return per_a, wanted * _AS_PER_KWH, left


def _plan(
    candidates: list[_Candidate],
    room: list[float],
    grid: Grid,
    now_s: float,
    state: AlgorithmState,
    bands: int,
    turns: tuple[float, float] | None = None,
) -> tuple[Mapping[str, float], float | None]:
    """The plan for the sessions (session id -> current now) and when it was made: the
    one in ``state`` while younger than :data:`planning.PLAN_EVERY_S` and made for
    the same sessions, else a new one (:func:`planning.plan_currents`) when any car
    told its needs and the sessions' maxima do not all fit the room anyway."""
    if len(candidates) > MAX_PLANNED_SESSIONS or all(
        c.charger.energy_wanted_kwh is None for c in candidates
    ):
        return {}, None
    ids = {_key(c) for c in candidates}
    if (
        state.planned_s is not None
        and 0.0 <= now_s - state.planned_s < PLAN_EVERY_S
        and (ids == state.plan.keys() or not state.plan)
    ):
        # The same sessions (or a programme that could not be solved: not every cycle).
        return state.plan, state.planned_s
    load = [0.0, 0.0, 0.0]
    for c in candidates:
        for p in range(3):
            load[p] += c.factors[p] * c.hi_a
    if all(load[p] <= room[p] for p in range(3)):
        return {}, None
    sessions = [
        PlanSession(
            _key(c), _weighed_factors(c, grid), c.hi_a, per_a, c.session.served_as, wanted_as, left
        )
        for c in candidates
        for per_a, wanted_as, left in (_told(c, grid, now_s),)
    ]
    if turns is not None:
        sessions = _with_turns(sessions, candidates, room, now_s, *turns)
    if all(s.wanted is None for s in sessions):  # only absurd needs: none told
        return {}, None
    return plan_currents(sessions, room, bands), now_s


def _with_turns(
    sessions: list[PlanSession],
    candidates: list[_Candidate],
    room: list[float],
    now_s: float,
    min_on_s: float,
    min_off_s: float,
) -> list[PlanSession]:
    """The plan's sessions with the turns as they stand: a running session is marked so,
    and keeps its minimum until its minimum on time ends (as far as the minima of such
    sessions fit the room, in the order they are admitted); one inside its minimum off
    time cannot run until that ends."""
    left = list(room)
    order = sorted(range(len(candidates)), key=lambda i: candidates[i].order_key)
    out = list(sessions)
    for i in order:
        c = candidates[i]
        since = c.session.switched_s
        if since is None or c.order_key[0] == _FULL_GROUP:
            continue
        if c.session.on:
            on_s = min_on_s - (now_s - since)
            if on_s > 0.0 and fits(c.factors, c.lo_a, left):
                for p in range(3):
                    left[p] -= c.factors[p] * c.lo_a
                out[i] = out[i]._replace(running=True, on_a=c.lo_a, on_s=on_s)
            else:
                out[i] = out[i]._replace(running=True)
        elif c.excluded:
            out[i] = out[i]._replace(off_s=min_off_s - (now_s - since))
    return out


def _weighed_factors(c: _Candidate, grid: Grid) -> Factors:
    """The load the plan weighs a session by: its own while its phases are known, else
    what a car on every wired phase loads (as most cars do) rather than the heaviest
    car it is counted as for safety. Weighed as a car on two IT windings, an unknown
    car looked twice as costly on its middle line, was planned later, and so never drew
    and never showed its phases. The sharing that follows still counts the heaviest."""
    if c.charger.car_phases is not None or c.session.car_phases is not None:
        return c.factors
    return _plan_factors(grid, c.charger.wiring, wired_phase_count(grid, c.charger.wiring))


def _key(c: _Candidate) -> str:
    """A candidate's key in the plan: its session (every candidate has one)."""
    return c.charger.session_id or c.charger.charger_id


def _follow_plan(
    candidates: list[_Candidate], plan: Mapping[str, float], alone: bool = False
) -> list[_Candidate]:
    """Weigh and order sessions by the plan's current for them now.

    A session the plan runs now (at least half its minimum: below it, turns make up
    the average) gets a share in proportion to the plan's current; the others go
    after all of them and get room only where :func:`_waiting_on_spare` finds it.
    """
    out: list[_Candidate] = []
    for c in candidates:
        planned = plan.get(_key(c))
        if planned is None:
            out.append(c)
            continue
        group, wanting, rank, cid = c.order_key
        if planned >= 0.5 * c.lo_a:
            # The plan has weighed the needs already: with ``alone`` only the priority
            # scales its currents (before, the need-scaled weight of version 5 did too).
            share = (_priority(c.charger) if alone else c.weight) * planned
        else:
            share, rank = c.weight * 1e-3, rank + _PLANNED_LATER
        fill = _new(FillItem, (share, c.lo_a, c.hi_a, c.factors))
        out.append(c._replace(weight=share, order_key=(group, wanting, rank, cid), fill=fill))
    return out


def _priority(ch: ChargerInput) -> float:
    return ch.weight if ch.weight > 1e-3 else 1e-3


_PLANNED_LATER = 1e18
"""Added to the rotation rank of a session its plan runs later: after every other."""


def _waiting_on_spare(
    chosen: list[_Candidate], room: list[float], plan: Mapping[str, float]
) -> list[_Candidate]:
    """The chosen sessions less those the plan runs later whose minimum does not fit the
    room the others leave at their planned currents (never below their minimum). A
    session inside its minimum on time (order group 0) is not one that waits."""
    left = list(room)
    later: list[_Candidate] = []
    for c in chosen:
        if _waits(c):
            later.append(c)
            continue
        planned = plan.get(_key(c), c.hi_a)
        take = max(c.lo_a, min(planned, c.hi_a))
        for p in range(3):
            left[p] -= c.factors[p] * take
    dropped: set[int] = set()
    for c in later:
        if fits(c.factors, c.lo_a, left):
            for p in range(3):
                left[p] -= c.factors[p] * c.lo_a
        else:
            dropped.add(c.pos)
    return [c for c in chosen if c.pos not in dropped] if dropped else chosen


def _waits(c: _Candidate) -> bool:
    """Whether the plan runs this session later (and it is not inside its min on time)."""
    return c.order_key[2] >= _PLANNED_LATER and c.order_key[0] != 0


def _middle(values: list[float | None]) -> float:
    """The middle (upper middle of an even count) of the known values; 0 when none."""
    known = sorted(v for v in values if v is not None)
    return known[len(known) // 2] if known else 0.0


HELD_READINGS = 2
"""Increases see the largest rest of the building over at least this many earlier readings."""
HELD_MAX_AGE_S = 60.0
"""... but never over readings older than this."""


def _hold_increases(
    snap: Snapshot,
    state: AlgorithmState,
    budget: _Budget,
    room: list[float],
    hold_s: float,
    noise_fraction: float = 0.0,
    fuse_only: bool = False,
) -> tuple[tuple[tuple[float, float, float, float], ...], list[float]]:
    """The recent rest-of-building readings to keep, and the room increases may use.

    With ``hold_s`` > 0 and a fresh reading, increases see the room left by the
    largest rest of the building over the last ``hold_s`` seconds and at least the
    :data:`HELD_READINGS` readings before (a slow meter), so a reading that dips by
    noise opens nothing; ``room`` (the latest reading) still drives decreases.
    The largest only helps when the window holds several readings of one level: right
    after a car started or stopped there may be one or two, so increases also keep
    ``noise_fraction`` of the latest reading free on each line (with ``fuse_only``,
    only below the fuse: a line bound by the group limit keeps its whole room).
    """
    meter = snap.meter
    if not budget.meter_online or meter is None:
        return (), room
    if hold_s <= 0.0 and not fuse_only:
        if noise_fraction <= 0.0:
            return (), room
        return (), _noise_room(room, meter.currents_a, noise_fraction)
    read_at = meter.read_at_s
    other = budget.other
    entry = (read_at, other[0] or 0.0, other[1] or 0.0, other[2] or 0.0)
    # The readings of the last hold_s seconds, and at least the HELD_READINGS before
    # this one (a meter that reads every 10 s has one reading in 5 s, and one noisy dip
    # opened room), none older than HELD_MAX_AGE_S.
    older = [r for r in state.recent_other if read_at - HELD_MAX_AGE_S < r[0] < read_at]
    kept = [r for r in older if read_at - hold_s < r[0]]
    if len(kept) < HELD_READINGS:
        kept = older[-HELD_READINGS:]
    kept.append(entry)
    recent = tuple(kept) if hold_s > 0.0 else ()
    cfg = snap.config
    pace_room = list(room)
    for p in range(3):
        if other[p] is None:
            continue
        highest = max(r[p + 1] for r in kept)
        fuse_room = cfg.max_supply_current_a - highest - cfg.margin_a
        if fuse_only:
            fuse_room -= noise_fraction * max(0.0, meter.currents_a[p])
        pace_room[p] = min(room[p], fuse_room - budget.reserved[p])
    if noise_fraction > 0.0 and not fuse_only:
        pace_room = _noise_room(pace_room, meter.currents_a, noise_fraction)
    return recent, pace_room


def _select_starts_held(
    eligible: list[_Candidate], room: list[float], start_room: list[float]
) -> list[bool]:
    """Admit greedily in order, like :func:`select_fitting`, but a session that is not
    running (its present setpoint below its minimum) must also fit ``start_room``.

    Every admitted minimum is taken from both rooms, so a start sees what the running
    sessions before it keep at their minimum.
    """
    left = list(room)
    held = list(start_room)
    admitted: list[bool] = []
    for c in eligible:
        f, lo = c.factors, c.lo_a
        ok = fits(f, lo, left) and (c.charger.setpoint_a >= lo or fits(f, lo, held))
        if ok:
            for p in range(3):
                left[p] -= f[p] * lo
                held[p] -= f[p] * lo
        admitted.append(ok)
    return admitted


def _room_for_starts(
    chosen: list[_Candidate], room: list[float], start_room: list[float]
) -> list[float]:
    """The room to share when some chosen sessions are to start: on every line a start
    loads, the room increases may use (``start_room``), never below the chosen minima.

    A start is granted only within ``start_room`` at the present setpoints; sharing the
    latest reading's larger room would leave the running sessions' targets just too high
    for it, and it would wait for a release that never comes.
    """
    starting = [c for c in chosen if c.charger.setpoint_a < c.lo_a]
    if not starting:
        return room
    out = list(room)
    for p in range(3):
        if any(c.factors[p] for c in starting):
            floor = sum(c.factors[p] * c.lo_a for c in chosen)
            out[p] = min(room[p], max(start_room[p], floor))
    return out


def _noise_room(room: list[float], reading: PerLine, fraction: float) -> list[float]:
    """``room`` less ``fraction`` of each line's reading (what noise may hide)."""
    return [room[p] - fraction * max(0.0, reading[p]) for p in range(3)]


def _switch(prev: SessionState, on: bool, now_s: float) -> SessionState:
    if on == prev.on:
        return prev
    return prev._replace(on=on, switched_s=now_s)


def _paused_reason(
    c: _Candidate, room: list[float], budget: _Budget, t: Tunables, now_s: float, rotation: bool
) -> Reason:
    if c.excluded:
        since = c.session.switched_s or now_s
        left = max(0.0, t.min_off_s - (now_s - since))
        return Reason(ReasonCode.PAUSED_MIN_OFF, f"paused: minimum off time ({left:.0f} s to go)")
    if fits(c.factors, c.lo_a, room):
        if not rotation:
            return Reason(
                ReasonCode.PAUSED_PRIORITY,
                f"paused: not enough for everyone at {_fmt(c.lo_a)} (lower priority)",
            )
        return Reason(
            ReasonCode.PAUSED_ROTATION,
            f"paused: rotation (not enough for everyone at {_fmt(c.lo_a)})",
        )
    p = blocking_line(c.factors, c.lo_a, room)
    source = budget.sources[p].describe(ALL_LINES[p])
    return Reason(
        ReasonCode.PAUSED_CAPACITY,
        f"paused: {source} leaves less than {_fmt(c.lo_a)}",
        ALL_LINES[p],
    )


def _pace(
    chosen: list[_Candidate],
    finals: dict[int, tuple[float, float, Reason]],
    committed: list[float],
    room: list[float],
    now_s: float,
    t: Tunables,
) -> None:
    """Hold back increases (in place): pacing, deadband, and room still in use.

    ``committed`` starts as every charger's load at its *present* setpoint: a car
    that is told to go down may still draw its old current until it follows, so
    only room that is free at the present setpoints may be handed out now.
    """
    step = t.resolution_a
    for c in chosen:
        target, _, reason = finals[c.pos]
        s = c.charger.setpoint_a
        if target <= s:
            continue
        stood = False
        start = s < c.lo_a
        if not start:
            since = c.charger.setpoint_since_s
            stood = since is not None and now_s - since >= t.small_increase_after_s
            if target - s < t.deadband_a and not stood:
                finals[c.pos] = (
                    s,
                    target,
                    Reason(ReasonCode.HELD_DEADBAND, f"kept at {_fmt(s)}: change below deadband"),
                )
                continue
            since = c.charger.setpoint_since_s
            if since is not None and now_s - since < t.increase_interval_s:
                finals[c.pos] = (
                    s,
                    target,
                    Reason(ReasonCode.HELD_PACING, f"increase paced: {_fmt(s)} for now"),
                )
                continue
        f = c.factors
        avail = INF
        for p in range(3):
            if f[p]:
                avail = min(avail, (room[p] - committed[p]) / f[p])
        granted = min(target, s + avail)
        # Below the deadband only once the setpoint stood long, and then one step at least.
        least = step - 1e-9 if stood else t.deadband_a
        if granted < c.lo_a or (not start and granted - s < least):
            held = 0.0 if start else s
            finals[c.pos] = (
                held,
                target,
                Reason(
                    ReasonCode.WAITING_RELEASE,
                    "waiting for other chargers to release current",
                ),
            )
            continue
        granted = max(c.lo_a, _floor_to(granted, step))
        if granted < target:
            reason = Reason(
                ReasonCode.WAITING_RELEASE,
                f"{_fmt(granted)} now, more once other chargers release current",
            )
        for p in range(3):
            committed[p] += f[p] * (granted - s)
        finals[c.pos] = (granted, target, reason)
