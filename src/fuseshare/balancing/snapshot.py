"""The immutable input of one allocation: group config, meter reading, chargers, time.

The control loop gathers everything into a :class:`Snapshot` first and then
allocates (read, compute, act). All currents are per phase in A, all times in
seconds on the caller's clock (``now_s``; any epoch, it only has to be monotonic
within one group).
"""

from __future__ import annotations

from dataclasses import dataclass

from fuseshare.balancing.topology import Grid, Line
from fuseshare.balancing.units import PerLine

IEC_MIN_CURRENT_A = 6.0
"""IEC 61851: below 6 A a car may not be offered current at all."""


@dataclass(frozen=True, slots=True)
class Tunables:
    """Timing and smoothing knobs of the algorithm; the defaults suit a 1 s loop.

    Changing a default changes behaviour: do it in a new algorithm version.
    """

    meter_max_age_s: float = 10.0
    """A reading older than this is stale: the group falls back to the offline budget."""
    min_on_s: float = 900.0
    """A session that was (re)started keeps charging at least this long, if it fits."""
    min_off_s: float = 300.0
    """A session that was paused stays paused at least this long."""
    increase_interval_s: float = 10.0
    """An increase is sent at most this often per charger (decreases go out at once)."""
    deadband_a: float = 1.0
    """Increases smaller than this are not sent."""
    response_s: float = 15.0
    """How long a car takes to follow a new setpoint before its draw means anything."""
    unused_threshold_a: float = 2.0
    """A car drawing this much below its settled offer 'draws less'."""
    unused_headroom_a: float = 2.0
    """A car that draws less keeps this much above its draw, to be able to ask for more."""
    probe_interval_s: float = 600.0
    """How often a car that draws less is offered its full share again (a probe)."""
    probe_duration_s: float = 60.0
    """How long a probe lasts."""
    learn_min_a: float = 2.0
    """Phases are learned only from a car drawing at least this much."""
    setpoint_lifetime_s: float = 120.0
    """How long a charger that lost its link may still apply its last dynamic setpoint."""
    resolution_a: float = 0.1
    """Setpoints are rounded down to this step (OCPP carries one decimal)."""
    small_increase_after_s: float = float("inf")
    """An increase below ``deadband_a`` is still sent once the setpoint has stood this
    long (inf: never). The deadband is per charger, so with n cars it leaves up to n
    times its size unused on a line; a slow trickle of small raises takes that back
    without flooding the chargers."""
    max_gap_s: float = 60.0
    """Longest gap between two cycles counted as served time (fairness bookkeeping)."""
    increase_hold_s: float = 0.0
    """Increases may only use room that every reading of this many seconds left: the
    largest rest of the building seen over the window (0: the latest reading only).
    Meter noise then cannot open room that is not there; decreases still follow the
    latest reading at once."""
    increase_margin_fraction: float = 0.0
    """Increases and starts also keep this fraction of each line's latest reading free,
    on top of the margin: a meter's noise grows with the current it reads (1 % of
    150 A is more than a 1 A margin), and a raise lands a reaction time later even if
    it is taken back at once. Decreases still use the whole room."""
    raise_sample_after_s: float = float("inf")
    """After a raise, the loop also asks the charger for a sample this long after it (inf:
    only the one a reaction time later). A car that follows a raise sooner than its
    reaction time shows it in the reading before its limit counts as followed; the sample
    says it is the car and not the building (``ChargerInput.drawn_low_a``)."""


@dataclass(frozen=True, slots=True)
class GroupConfig:
    """A load balancing group's settings (see DOMAIN.md, 'field by field')."""

    grid: Grid
    max_supply_current_a: float
    """The main fuse rating, per line."""
    max_current_online_a: float
    """What all chargers together may draw per line with a fresh meter reading."""
    max_current_offline_a: float
    """What all chargers together may draw per line without one (the offline budget)."""
    min_current_a: float = 6.0
    """Below this a session is paused; never taken below 6 A (IEC 61851)."""
    outlet_active: bool = True
    """Ticked: the reading includes the chargers' own current (meter at the main supply)."""
    has_meter: bool = True
    margin_a: float = 1.0
    """Safety margin kept free below every limit that depends on the reading."""
    tunables: Tunables | None = None
    """None: the algorithm version's own defaults (a version may tune differently)."""

    @property
    def effective_min_a(self) -> float:
        """The group's min current, never below 6 A."""
        return max(IEC_MIN_CURRENT_A, self.min_current_a)

    @property
    def effective_offline_a(self) -> float:
        """The offline budget as set, never above the fuse or the group limit."""
        return min(self.max_current_offline_a, self.max_supply_current_a, self.max_current_online_a)


@dataclass(frozen=True, slots=True)
class ChargerInput:
    """One membership (a charger in the group) as seen at ``now_s``.

    ``measured_a`` are the currents at the charger's own terminals L1, L2, L3 (so
    ``measured_a[k]`` flows on grid line ``wiring[k]``), from its meter values, or
    None when unknown. ``setpoint_a`` is the dynamic limit the charger currently
    has (what was last sent and acknowledged), ``setpoint_since_s`` when it was last
    sent: a renewal of an unchanged limit counts as a send (versions 2-8 were tuned so;
    counting only changes took scarce-evening-it-15118 from 87.9 % of the bound at Jain
    0.967 to 87.5 % at 0.946 with version 7).
    """

    charger_id: str
    wiring: tuple[Line, ...]
    max_current_a: float
    """The charger's own max (hardware, cable)."""
    failsafe_current_a: float = 0.0
    """What the charger draws at most when it cannot hear the system."""
    weight: float = 1.0
    """Priority: a charger with weight 2 gets twice the current and twice the turns."""
    online: bool = True
    """False when the link to the charger is lost."""
    last_seen_s: float | None = None
    """When the charger was last heard from (used while it is offline)."""
    session_id: str | None = None
    """The car's session (transaction); None when no car is charging."""
    wants_energy: bool = True
    """False when the car says it is full/suspended; it keeps the minimum, nothing more."""
    measured_a: tuple[float, ...] | None = None
    measured_at_s: float | None = None
    """When ``measured_a`` was sampled (chargers report every few seconds). A sample is
    only taken as the car's answer to a setpoint when it was sampled at least
    ``Tunables.response_s`` after that setpoint; None: as of ``now_s``."""
    car_phases: int | None = None
    """Phases the car uses when known from outside (else learned from ``measured_a``)."""
    car_max_current_a: float | None = None
    """The car's own max per phase once learned (a soft cap: never below the group min)."""
    energy_wanted_kwh: float | None = None
    """What the car wants for the whole session, when it said (ISO 15118 through OCPP
    2.0.1 NotifyEVChargingNeeds, or the driver); None: unknown."""
    departure_s: float | None = None
    """When the car leaves, on ``now_s``'s clock, when it said; None: unknown."""
    membership_max_current_a: float | None = None
    """An extra per-membership limit set by the installer."""
    setpoint_a: float = 0.0
    setpoint_since_s: float | None = None
    follow_low_a: float | None = None
    """The lowest limit the car may still be following at the meter reading's time:
    the one it held a reaction time earlier, or any sent since (a car takes up to its
    reaction time to follow a change either way). None when no limit is known."""
    sample_settled_limit_a: float | None = None
    """The limit the charger had held for at least the car's reaction time when
    ``measured_a`` was sampled; None when the sample fell inside a change (it then says
    nothing about whether the car follows its limit)."""
    sample_follow_low_a: float | None = None
    """The lowest limit the car may have been following when ``measured_a`` was sampled
    (the one it held a reaction time before, or any sent up to the sample); None when no
    limit was known then. A sample well below it shows a car that takes less than it is
    offered even while its limit keeps moving."""
    drawn_low_a: float | None = None
    """The least the car drew at the meter reading's time by a sample taken at or before
    the reading while the limit then in effect already stood (up to that limit): a car
    that has followed a raise shows it there before its reaction time is up. None when
    no sample was taken since that limit was sent, when the car may still be following
    a higher limit than that one, or when it (or the site) has shown it is slower than
    IEC's 5 s (the loop's ``_drawn_low``)."""


@dataclass(frozen=True, slots=True)
class MeterInput:
    """One reading of the group's meter: per-line current and when it was taken."""

    currents_a: PerLine
    read_at_s: float


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one allocation depends on. Chargers are identified by ``charger_id``."""

    config: GroupConfig
    chargers: tuple[ChargerInput, ...]
    now_s: float
    meter: MeterInput | None = None
    offline_budget_a: PerLine | None = None
    """Per line, the offline budget lowered to what the rest of the building has been
    seen to leave (:mod:`.building_peak`); None: the configured one. Only ever lowers."""
