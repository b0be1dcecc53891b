"""One control loop per active group: read a snapshot, allocate, act.

The loop wakes on a new meter reading, on a charger's link/status/session
change, on a configuration change and on a regular tick. Each cycle:

1. **read** everything into an immutable :class:`~fuseshare.balancing.Snapshot`;
2. **compute** with the group's algorithm version (pure);
3. **act**: decreases are sent first and awaited, then increases, so that the
   sum on a line never passes its limit while the chargers follow; unchanged
   limits are renewed well before the OCPP side's lease runs out.

Cars slower than IEC 61851-1's 5 s: a car seen above a limit it was cut to longer
ago than the reaction time the loop assumes for it has shown a longer one, and for the
rest of its session every window that assumes how fast it follows (what it may still
draw, when its sample says something, when to ask for the next one) uses what it
showed (:meth:`GroupLoop._learn_reaction`); once several cars here have shown it, a
car that has just arrived starts from theirs. Counting on 5 s from such a car let the
others be given room it had not yet released, and the fuse carried both.

Safety when things break: a charger that lost its link, or that did not accept
a limit, or that keeps drawing more than it was told, is taken as drawing its
failsafe current / its maximum / what it draws, and that is reserved on its
lines. If the computation itself fails, every charger is told its failsafe
current (fail closed).

The building is watched too (:mod:`fuseshare.balancing.building_peak`): once the
rest of the building has drawn more than the offline budget leaves under the
fuse, the offline budget and the failsafe currents the chargers hold are lowered
to what it does leave, and a warning says so (``notify``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from fuseshare.balancing import (
    ALL_LINES,
    AlgorithmState,
    Allocation,
    ChargerInput,
    Line,
    MeterInput,
    PerLine,
    Snapshot,
    Tunables,
    car_current_a,
    get_algorithm,
)
from fuseshare.balancing.building_peak import (
    BuildingPeak,
    FailsafeMember,
    lowered_failsafes,
    lowered_offline_budget,
)
from fuseshare.control.commands import ChargerCommands
from fuseshare.control.history import HistoryBuffer, SetpointPoint
from fuseshare.control.live import ChargerLive, GroupLive, LineLive, LiveBoard, MeterLive
from fuseshare.control.spec import GroupSpec, MemberSpec
from fuseshare.control.telemetry import ChargerTelemetry
from fuseshare.meters.ports import MeterReadings
from fuseshare.ocpp.profiles import LimitPolicy

log = logging.getLogger(__name__)

MEASURED_MAX_AGE_S = 60.0
"""Per-phase currents older than this say nothing about the charger any more."""
EV_REACTION_S = 5.0
"""IEC 61851-1: a car follows a lower limit within 5 s."""
SAMPLE_AFTER_CHANGE_S = EV_REACTION_S + 1.0
"""After a changed limit, ask for a fresh sample once the car has had time to follow:
chargers report every ~10 s, and until then the loop can only bound what the car draws."""
REACTION_MARGIN_S = 2.0
"""A car seen still above its cut limit is credited with this much longer than it took
(a margin of 1.5 times cost a quarter of the energy on the library's slow-car evening
for no fewer seconds above the fuse)."""
MAX_REACTION_S = 30.0
"""The longest reaction a car is credited with: one that keeps drawing above its limit
longer than this is not slow but overdrawing (and is treated as such)."""
HELD_KEEP_S = 2 * MEASURED_MAX_AGE_S
"""How long the limits a charger held are remembered (samples are used up to a minute old)."""
OVERDRAW_TOLERANCE_A = 1.5
"""Chargers' meters and cars' regulation are this imprecise; above it is overdraw."""
QUIET_REFRESH_FRACTION = LimitPolicy().refresh_fraction
"""The part of a quiet limit's lease after which it is renewed (as on the wire)."""
FIRST_READING_WAIT_S = 5.0
"""A loop that starts (a server restart, an activation) waits this long at most for a
fresh meter reading before its first cycle. Without one it would share the offline
budget for the second or two until the meter's next reading: after a restart, every
charger held back by the building would be raised to its offline share and cut again
(two limits each, and a car that ramps up and down). Waiting is no riskier than a
restart that took 5 s longer: the chargers keep the limits they hold, which expire
into their failsafe currents."""
ALLOCATE_IN_THREAD_FROM = 100
"""Groups with this many chargers or more compute their allocation in a worker thread:
version 6's plan takes some 50 ms for 100 sessions (bounded by its 1 s solve limit), and
one process runs every group and every charger's OCPP connection on one event loop."""


def renew_every_for(lifetime_s: float) -> float:
    """How often to renew an unchanged limit whose lease lasts ``lifetime_s``: at least
    twice per lease (one lost renewal must not let it expire), and at most once a minute."""
    return max(1.0, min(60.0, lifetime_s / 2.0))


def renew_quiet_every_for(lifetime_s: float, quiet_lifetime_s: float) -> float:
    """How often to renew an unchanged quiet limit (at or below the charger's failsafe
    current, :meth:`fuseshare.ocpp.profiles.LimitPolicy.lease_s`), whose lease lasts
    ``quiet_lifetime_s``: as often as the OCPP side refreshes it on the wire, three times
    per lease, and never more often than any other limit."""
    quiet = max(lifetime_s, quiet_lifetime_s)
    return max(renew_every_for(lifetime_s), quiet * QUIET_REFRESH_FRACTION)


@dataclass(frozen=True, slots=True)
class Sent:
    current_a: float
    at_s: float
    accepted: bool
    failsafe_a: float | None = None
    """The failsafe current sent with it (None: not sent)."""


@dataclass(frozen=True, slots=True)
class GroupNotice:
    """Something the people behind a group should know, from its loop."""

    group_id: int
    organization_id: int
    at_s: float
    severity: str
    kind: str
    subject: str
    message: str


class GroupLoop:
    """Runs one group. ``update`` swaps in a new configuration without losing state."""

    def __init__(
        self,
        spec: GroupSpec,
        *,
        meters: MeterReadings | None,
        telemetry: ChargerTelemetry,
        commands: ChargerCommands,
        board: LiveBoard,
        history: HistoryBuffer | None,
        clock: Callable[[], float],
        tick_s: float = 1.0,
        renew_every_s: float = 60.0,
        renew_quiet_every_s: float | None = None,
        min_cycle_gap_s: float = 0.01,
        notify: Callable[[GroupNotice], None] | None = None,
        building: BuildingPeak | None = None,
        keep_building: Callable[[int, dict[str, object]], None] | None = None,
        keep_memory: Callable[[int, dict[str, object]], None] | None = None,
        allocate_in_thread_from: int = ALLOCATE_IN_THREAD_FROM,
        first_reading_wait_s: float = FIRST_READING_WAIT_S,
    ) -> None:
        """``notify`` receives what people should know; ``building`` is the peak kept in
        the store, and ``keep_building`` stores it again whenever it changed;
        ``keep_memory`` stores what the sessions have had (``spec.sharing_memory`` is
        what was stored before) every :data:`KEEP_MEMORY_EVERY_S`; groups of
        ``allocate_in_thread_from`` chargers or more allocate in a worker thread. An
        unchanged limit is renewed every ``renew_every_s``, one at or below the
        charger's failsafe current every ``renew_quiet_every_s`` (its lease is longer:
        :func:`renew_quiet_every_for`; None: as the others)."""
        self.spec = spec
        self._members = {m.serial: m for m in spec.members}
        """By serial: looked up for every charger in every cycle."""
        self._meters = meters
        self._telemetry = telemetry
        self._commands = commands
        self._board = board
        self._history = history
        self._clock = clock
        self._tick_s = tick_s
        self._renew_every_s = renew_every_s
        self._renew_quiet_every_s = (
            renew_every_s if renew_quiet_every_s is None else renew_quiet_every_s
        )
        self._min_gap_s = min_cycle_gap_s
        self._algorithm = get_algorithm(spec.algorithm, spec.version)
        self._thread_from = allocate_in_thread_from
        self._first_reading_wait_s = first_reading_wait_s
        self._state = restored_state(spec) or self._algorithm.initial_state()
        self._keep_memory = keep_memory
        self._memory_kept_s = clock()
        self._sent: dict[str, Sent] = {}
        self._sample_due: dict[str, float] = {}
        self._raise_sample_due: dict[str, float] = {}
        """Samples asked for early after a raise (``Tunables.raise_sample_after_s``)."""
        self._requests: set[asyncio.Task[None]] = set()
        self._held: dict[str, deque[tuple[float, float]]] = {}
        """Accepted limit changes per charger with when they were sent, oldest first."""
        self._over_since: dict[str, float] = {}
        self._reaction: dict[str, tuple[str | None, float]] = {}
        """Per charger: the session and the reaction its car has shown, when longer than
        :data:`EV_REACTION_S` (:meth:`_learn_reaction`)."""
        self._reaction_seen: dict[str, tuple[float, float]] = {}
        """Per charger: the sample time and reaction time last judged (a sample is judged
        once per window; the loop cycles every second, chargers report every ~10 s)."""
        self._site_reaction_s = EV_REACTION_S
        """What a car that has not shown its reaction yet is counted on (:meth:`_site_reaction`)."""
        self._flagged: set[str] = set()
        self._last_history_s: dict[str, float] = {}
        self._wake = asyncio.Event()
        self._notify = notify
        self._building = building or BuildingPeak()
        self._keep_building = keep_building
        self._building_read_at: float | None = None
        self.offline_budget: PerLine | None = None
        """The offline budget lowered to what the building leaves; None: as configured."""
        self.failsafes: dict[str, float] = {}
        """Per serial, the failsafe currents lowered to fit the offline budget in use
        (only those lowered; the others are as configured)."""
        self._lower_for_building(clock(), notify=False)
        self.cycles = 0
        self.last_allocation: Allocation | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def update(self, spec: GroupSpec) -> None:
        """A changed configuration: takes effect on the next cycle."""
        old = {m.serial for m in self.spec.members}
        if (spec.algorithm, spec.version) != (self.spec.algorithm, self.spec.version):
            self._algorithm = get_algorithm(spec.algorithm, spec.version)
            self._state = self._algorithm.initial_state()
        for serial in old - {m.serial for m in spec.members}:
            self._telemetry.unwatch(serial, self.wake)
        for m in spec.members:
            self._telemetry.watch(m.serial, self.wake)
        self.spec = spec
        self._members = {m.serial: m for m in spec.members}
        self._lower_for_building(self._clock(), notify=False)
        self.wake()

    async def run(self) -> None:
        for m in self.spec.members:
            self._telemetry.watch(m.serial, self.wake)
        watcher = asyncio.create_task(self._watch_meter(), name=f"meter-watch-{self.spec.group_id}")
        try:
            await self._await_first_reading()
            while True:
                # asyncio.timeout, not wait_for: on 3.11 wait_for loses a cancellation that
                # arrives while the wake event is being set, and the loop would never stop.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._tick_s):
                        await self._wake.wait()
                self._wake.clear()
                await self.cycle()
                await asyncio.sleep(self._min_gap_s)
        finally:
            watcher.cancel()
            for m in self.spec.members:
                self._telemetry.unwatch(m.serial, self.wake)

    async def _await_first_reading(self) -> None:
        """Wait up to ``first_reading_wait_s`` for a fresh meter reading (at once when the
        group has no meter or one is there already); :data:`FIRST_READING_WAIT_S` says why."""
        if self._meters is None or self.spec.meter_serial is None:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._first_reading_wait_s):
                while not self._is_fresh(self._meter_input(), self._clock()):
                    await self._wake.wait()
                    self._wake.clear()
        self._wake.set()  # the first cycle runs at once, reading or not

    def _is_fresh(self, meter: MeterInput | None, now_s: float) -> bool:
        return meter is not None and now_s - meter.read_at_s <= self._tunables().meter_max_age_s

    async def release(self) -> None:
        """Deactivation: every charger drops its dynamic limit and keeps its failsafe one."""
        await asyncio.gather(*(self._commands.release(m.serial) for m in self.spec.members))
        self._board.forget(self.spec.group_id)

    async def _watch_meter(self) -> None:
        last = None
        while True:
            serial = self.spec.meter_serial
            if self._meters is None or serial is None:
                await asyncio.sleep(1.0)
                continue
            try:
                reading = await self._meters.next_reading(serial, after=last, timeout_s=5.0)
            except KeyError:  # not registered with the hub (yet): the tick still runs the loop
                await asyncio.sleep(1.0)
                continue
            if reading is not None:
                last = reading
                self.wake()

    # -- one cycle ------------------------------------------------------------------------

    async def cycle(self) -> Allocation | None:
        now_s = self._clock()
        self._request_due_samples(now_s)
        snapshot = self.snapshot(now_s)
        try:
            if len(self.spec.members) >= self._thread_from:
                # The computation is pure (immutable snapshot and state in, new ones out):
                # off the event loop, the other groups and the chargers' connections go on.
                result = await asyncio.to_thread(self._algorithm.allocate, snapshot, self._state)
            else:
                result = self._algorithm.allocate(snapshot, self._state)
        except Exception:
            log.exception(
                "group %s: allocation failed; every charger gets its failsafe current",
                self.spec.group_id,
            )
            await self._fail_closed(now_s)
            return None
        self._state = result.state
        allocation = result.allocation
        if self._keep_memory is not None and now_s - self._memory_kept_s >= KEEP_MEMORY_EVERY_S:
            self._memory_kept_s = now_s
            self._keep_memory(self.spec.group_id, sharing_memory(self.spec, self._state))
        self._watch_building(snapshot, allocation)
        await self._act(allocation, now_s)
        self.cycles += 1
        self.last_allocation = allocation
        self._publish(snapshot, allocation, now_s)
        return allocation

    def snapshot(self, now_s: float) -> Snapshot:
        """Read: the group's configuration, meter and chargers, as of ``now_s``.

        Chargers' currents are taken as of the meter reading's time, so that the
        reading minus the chargers is the rest of the building at one moment.
        """
        meter = self._meter_input()
        fresh = self._is_fresh(meter, now_s)
        # Without a fresh reading nothing is subtracted from it: the chargers as they are now.
        reference_s = meter.read_at_s if fresh and meter is not None else now_s
        self._site_reaction_s = self._site_reaction()
        chargers = tuple(self._charger_input(m, now_s, reference_s) for m in self.spec.members)
        return Snapshot(
            config=self.spec.config,
            chargers=chargers,
            now_s=now_s,
            meter=meter,
            offline_budget_a=self.offline_budget,
        )

    def _failsafe(self, member: MemberSpec) -> float:
        """The failsafe current to give a charger: as configured, or lowered to fit."""
        return self.failsafes.get(member.serial, member.failsafe_current_a)

    def _watch_building(self, snapshot: Snapshot, allocation: Allocation) -> None:
        """Feed each fresh reading's rest of the building (as the algorithm saw it, with
        the chargers taken out) to the peak; lower the offline budget when it rises."""
        meter = snapshot.meter
        if not allocation.meter_online or meter is None:
            return
        if self._building_read_at is not None and meter.read_at_s <= self._building_read_at:
            return  # this reading was seen in an earlier cycle (cheap check first)
        self._building_read_at = meter.read_at_s
        if any(c.reserved_a > 0.0 for c in allocation.chargers):
            return  # a charger that lost its link is still in the reading: not the building
        rest: list[float | None] = [None, None, None]
        for budget in allocation.lines:
            rest[ALL_LINES.index(budget.line)] = budget.other_load_a
        day = self._building.newest_day
        if self._building.add(meter.read_at_s, rest):
            self._lower_for_building(snapshot.now_s, notify=True)
            self._store_building()
        elif self._building.newest_day != day:  # a new day: an old one may have left
            self._lower_for_building(snapshot.now_s, notify=False)
            self._store_building()

    def _store_building(self) -> None:
        if self._keep_building is not None:
            self._keep_building(self.spec.group_id, self._building.to_json())

    def _lower_for_building(self, now_s: float, *, notify: bool) -> None:
        """The offline budget and failsafe currents for the building's peak as known now.

        The failsafes always fit the budget in use, lowered or not: activation refuses
        failsafes that add up past the offline budget, and this holds it for groups
        that never went through activation (the simulator) too.
        """
        config = self.spec.config
        before = self.offline_budget
        budget = lowered_offline_budget(config, self._building.peak())
        self.offline_budget = budget
        configured = config.effective_offline_a
        fitted = lowered_failsafes(
            config,
            [
                FailsafeMember(m.serial, m.wiring, m.failsafe_current_a, m.max_current_a)
                for m in self.spec.members
            ],
            budget or PerLine(configured, configured, configured),
        )
        self.failsafes = {
            m.serial: fitted[m.serial]
            for m in self.spec.members
            if fitted[m.serial] < m.failsafe_current_a
        }
        if (
            budget is not None
            and notify
            and (before is None or any(a < b - 0.5 for a, b in zip(budget, before, strict=True)))
        ):
            self._tell_lowered(budget, now_s)

    def _tell_lowered(self, budget: PerLine, now_s: float) -> None:
        config = self.spec.config
        peak = self._building.peak()
        configured = config.effective_offline_a
        lines = [
            f"{line} {peak[p]:.1f} A (leaves {budget[p]:.1f} A)"
            for line in config.grid.lines
            for p in (ALL_LINES.index(line),)
            if peak[p] is not None and budget[p] < configured - 1e-9
        ]
        changed = [
            f"{m.serial} {m.failsafe_current_a:g} → {self.failsafes[m.serial]:g} A"
            for m in self.spec.members
            if m.serial in self.failsafes
        ]
        message = (
            f"The rest of the building drew up to {', '.join(lines)} under the "
            f"{config.max_supply_current_a:g} A fuse (one-minute medians). With the offline budget "
            f"of {configured:g} A the chargers could overload the supply while the meter or the "
            "system is silent, so fuseshare now uses what the building leaves as the offline "
            "budget"
            + (f" and lowers failsafe currents: {', '.join(changed)}" if changed else "")
            + ". Lower the group's offline budget and failsafe currents to match, or take load "
            "off that line."
        )
        log.warning("group %s: %s", self.spec.group_id, message)
        if self._notify is not None:
            self._notify(
                GroupNotice(
                    group_id=self.spec.group_id,
                    organization_id=self.spec.organization_id,
                    at_s=now_s,
                    severity="warning",
                    kind="group_offline_budget_lowered",
                    subject=self.spec.name,
                    message=message,
                )
            )

    def _meter_input(self) -> MeterInput | None:
        if self._meters is None or self.spec.meter_serial is None:
            return None
        view = self._meters.view(self.spec.meter_serial)
        if view is None or view.reading is None:
            return None
        # The algorithm judges staleness from read_at_s itself; hand it the truth.
        return MeterInput(
            currents_a=PerLine.from_values(view.reading.current_a),
            read_at_s=view.reading.measured_at_s,
        )

    def _charger_input(self, m: MemberSpec, now_s: float, reference_s: float) -> ChargerInput:
        st = self._telemetry.state(m.serial)
        measured: tuple[float, ...] | None = None
        measured_at: float | None = None
        sample = st.sample_as_of(reference_s) if st.measured_a is not None else None
        grid = self.spec.config.grid
        # The car's current in the latest sample (a car on two IT windings shows twice it
        # on one terminal), for judging its reaction and whether it overdraws.
        latest = car_current_a(grid, m.wiring, st.measured_a) if st.measured_a else None
        reaction_s = self._reaction_s(m.serial, st.session_id)
        if latest is not None and st.measured_at_s is not None and st.session_id:
            reaction_s = self._learn_reaction(
                m.serial, st.session_id, latest, st.measured_at_s, reaction_s
            )
        if sample is not None and now_s - sample[0] <= MEASURED_MAX_AGE_S:
            measured_at, measured = sample
            # Chargers report every few seconds: a sample from before a decrease still shows
            # the old current after the car has followed. A car draws no more than the
            # highest limit it may still be following (the new one once its reaction time
            # has passed), so its share of the reading is at most that. Counting less of the
            # reading as the chargers' only makes the rest of the building look larger (safe).
            # Scaled as a whole, so that the sample keeps the shape the car's phases give it
            # (a car on two IT windings: twice its current on the middle terminal).
            cap = self._may_follow(m.serial, reference_s, reaction_s)
            drawn = car_current_a(grid, m.wiring, measured)
            if cap is not None and drawn > cap:
                scale = cap / drawn
                measured = tuple(v * scale for v in measured)
        drawn_low = self._drawn_low(m.serial, reference_s, sample, m.wiring, reaction_s)
        settled_limit = sample_follow_low = None
        if measured_at is not None:
            settled_limit = self._held_since(m.serial, measured_at - reaction_s, measured_at)
            sample_follow_low = self._follow_low(m.serial, measured_at, measured_at, reaction_s)
        sent = self._sent.get(m.serial)
        setpoint = sent.current_a if sent and sent.accepted else 0.0
        online = st.online
        failsafe = m.failsafe_current_a
        needs = st.needs if st.session_id is not None else None
        if online and not st.controllable:
            # It did not take our limit: assume the worst it can do.
            online, failsafe = False, m.max_current_a
        elif (
            online
            and latest is not None
            and st.measured_at_s is not None
            and self._overdraws(m.serial, latest, st.measured_at_s, now_s)
        ):
            online, failsafe = False, max(failsafe, latest)
        return ChargerInput(
            charger_id=m.serial,
            wiring=m.wiring,
            max_current_a=m.max_current_a,
            failsafe_current_a=failsafe,
            weight=m.weight,
            online=online,
            last_seen_s=st.last_seen_s,
            session_id=st.session_id,
            wants_energy=st.car_wants_energy,
            measured_a=measured[: len(m.wiring)] if measured is not None else None,
            measured_at_s=measured_at,
            car_max_current_a=needs.ev_max_current_a if needs else None,
            energy_wanted_kwh=needs.energy_kwh if needs else None,
            departure_s=st.departure_s,
            membership_max_current_a=m.membership_max_current_a,
            setpoint_a=setpoint,
            setpoint_since_s=sent.at_s if sent else None,  # a renewal counts (ChargerInput)
            follow_low_a=self._follow_low(m.serial, reference_s, now_s, reaction_s),
            sample_settled_limit_a=settled_limit,
            sample_follow_low_a=sample_follow_low,
            drawn_low_a=drawn_low,
        )

    def _request_due_samples(self, now_s: float) -> None:
        """Fire the sample requests that are due, without holding up the cycle."""
        due: set[str] = set()
        for pending in (self._sample_due, self._raise_sample_due):
            for serial in [serial for serial, at_s in pending.items() if at_s <= now_s]:
                del pending[serial]
                due.add(serial)
        for serial in sorted(due):
            if not self._telemetry.state(serial).online:
                continue
            task = asyncio.create_task(self._commands.request_sample(serial))
            self._requests.add(task)
            task.add_done_callback(self._requests.discard)

    def _limit_in_effect(self, serial: str, at_s: float) -> float | None:
        """The accepted limit the charger held at ``at_s`` (None when none was known then)."""
        change = self._change_in_effect(serial, at_s)
        return None if change is None else change[1]

    def _change_in_effect(self, serial: str, at_s: float) -> tuple[float, float] | None:
        """(when it was sent, limit) of the accepted limit the charger held at ``at_s``."""
        held = None
        for change in self._held.get(serial, ()):
            if change[0] > at_s:
                break
            held = change
        return held

    def _may_follow(self, serial: str, at_s: float, reaction_s: float) -> float | None:
        """The highest limit the car may still be following at ``at_s``: the one held
        ``reaction_s`` earlier and any sent since (a decrease takes that long to show)."""
        held = self._held.get(serial)
        if not held or len(held) == 1:  # the common case, every charger every cycle
            return held[0][1] if held and held[0][0] <= at_s else None
        limits = self._limits_followable(serial, at_s - reaction_s, at_s)
        return max(limits) if limits else None

    def _reaction_s(self, serial: str, session_id: str | None) -> float:
        """How long the car at ``serial`` may take to follow a new limit: IEC 61851-1's
        5 s, or the longer time its car has shown in this session."""
        shown = self._reaction.get(serial)
        if shown is None or shown[0] != session_id:
            return self._site_reaction_s
        return shown[1]

    def _site_reaction(self) -> float:
        """What a car that has not shown its reaction yet is counted on: IEC's 5 s, unless
        at least two of the cars charging here now, and at least half of them, have shown
        a longer one; then the shortest of those (the cars or the chargers of this site are
        slow, and a car that just arrived must not be counted on 5 s until it shows it)."""
        if not self._reaction:  # the common case: every car has followed within 5 s
            return EV_REACTION_S
        sessions = 0
        shown: list[float] = []
        for m in self.spec.members:
            session_id = self._telemetry.state(m.serial).session_id
            if session_id is None:
                continue
            sessions += 1
            entry = self._reaction.get(m.serial)
            if entry is not None and entry[0] == session_id:
                shown.append(entry[1])
        if len(shown) >= 2 and 2 * len(shown) >= sessions:
            return min(shown)
        return EV_REACTION_S

    def _learn_reaction(
        self, serial: str, session_id: str, drawn_a: float, sampled_s: float, reaction_s: float
    ) -> float:
        """The reaction time to assume for this car from now on, given a sample of what it
        drew: when the last limit change older than ``reaction_s`` cut it and it still
        drew more than every limit it may have followed since, it is slower than that: it
        is credited with :data:`REACTION_MARGIN_S` more, up to :data:`MAX_REACTION_S`. The
        loop asks for a sample a reaction time and a second after every change, so each
        cut it has not followed yet lengthens the time again, until the time covers it.
        Only ever lengthens, within one session."""
        held = self._held.get(serial)
        if not held or len(held) < 2 or self._reaction_seen.get(serial) == (sampled_s, reaction_s):
            return reaction_s  # nothing to judge, or this sample judged with this window
        self._reaction_seen[serial] = (sampled_s, reaction_s)
        window_start = sampled_s - reaction_s
        for i in range(len(held) - 1, 0, -1):
            sent_s, limit = held[i]
            if sent_s > window_start:
                continue  # the car may still be following this one: no evidence yet
            cut = limit < held[i - 1][1] - OVERDRAW_TOLERANCE_A
            allowed = max([limit] + [c for t, c in held if sent_s < t <= sampled_s])
            took_s = sampled_s - sent_s
            if cut and drawn_a > allowed + OVERDRAW_TOLERANCE_A and took_s < MAX_REACTION_S:
                reaction_s = min(MAX_REACTION_S, took_s + REACTION_MARGIN_S)
                if self._reaction.get(serial, (None, 0.0))[0] != session_id:
                    log.warning(
                        "charger %s: its car still drew %.1f A %.0f s after a cut to %.1f A "
                        "(IEC 61851-1 allows 5 s); its limits now count on %.0f s",
                        serial,
                        drawn_a,
                        took_s,
                        limit,
                        reaction_s,
                    )
                self._reaction[serial] = (session_id, reaction_s)
            break  # only the newest change older than the window says something
        return reaction_s

    def _drawn_low(
        self,
        serial: str,
        at_s: float,
        sample: tuple[float, tuple[float, float, float]] | None,
        wiring: tuple[Line, ...],
        reaction_s: float,
    ) -> float | None:
        """The least the car drew at ``at_s`` by ``sample``: its current, up to the limit in
        effect at ``at_s``, when it was sampled at or before ``at_s`` and after that limit
        was sent (before it, the sample shows the car under an older limit), and it may
        not still be following a higher one; else None.

        A car may follow a raise well within IEC's 5 s; until then :meth:`_follow_low`
        still counts it on its old limit, and its new current looks like the building's.
        Only on the way up: the sharing sizes every limit as if its car drew no more than
        it, and a car that may still follow a higher limit sent before a cut can go up to
        that after the sample (a slow car raised and cut within its reaction time follows
        the raise after the cut); counting it on its old, lower limit leaves the room for
        that, as before. Nor for a car (or at a site) that has shown it is slower than
        IEC: its time is learned from cuts it has not followed yet, and until it covers
        the car, the old limit's margin is what covers the gap.
        """
        if sample is None or sample[0] > at_s or reaction_s > EV_REACTION_S:
            return None
        change = self._change_in_effect(serial, at_s)
        if change is None or sample[0] < change[0]:
            return None
        limit = change[1]
        if max(self._limits_followable(serial, at_s - reaction_s, at_s)) > limit:
            return None
        return min(car_current_a(self.spec.config.grid, wiring, sample[1]), limit)

    def _follow_low(
        self, serial: str, at_s: float, now_s: float, reaction_s: float = EV_REACTION_S
    ) -> float | None:
        """The lowest limit the car may be following at ``at_s``: the one held a reaction
        time earlier and any sent since, up to ``now_s``.

        None when no limit was known a reaction time earlier: the loop has just started
        (after a restart of the system) and the car may still be on whatever it had
        before, possibly nothing. Its sample says more then than a limit it may not
        follow yet (counting it at that limit hid 24 A of building after a restart).
        """
        since_s = at_s - reaction_s
        held = self._held.get(serial)
        if not held or len(held) == 1:  # the common case, every charger every cycle
            return held[0][1] if held and held[0][0] <= since_s else None
        if self._limit_in_effect(serial, since_s) is None:
            return None
        return min(self._limits_followable(serial, since_s, now_s))

    def _limits_followable(self, serial: str, since_s: float, until_s: float) -> list[float]:
        """The limit in effect at ``since_s`` and every one sent after it up to ``until_s``."""
        limits = [c for t, c in self._held.get(serial, ()) if since_s < t <= until_s]
        before = self._limit_in_effect(serial, since_s)
        if before is not None:
            limits.append(before)
        return limits

    def _held_since(self, serial: str, from_s: float, to_s: float) -> float | None:
        """The limit held throughout ``[from_s, to_s]``; None when it changed or was unknown."""
        held = self._held.get(serial)
        if not held or len(held) == 1:  # the common case, every charger every cycle
            return held[0][1] if held and held[0][0] <= from_s else None
        if any(from_s < t <= to_s for t, _ in self._held.get(serial, ())):
            return None
        return self._limit_in_effect(serial, from_s)

    def _tunables(self) -> Tunables:
        return self._algorithm.tunables(self.spec.config)

    def _overdraws(self, serial: str, drawn_a: float, sampled_s: float, now_s: float) -> bool:
        """A charger drawing more than it was told for longer than a car needs to follow."""
        response_s = self._tunables().response_s
        allowed = self._may_follow(serial, sampled_s, response_s)
        if allowed is None or drawn_a <= allowed + OVERDRAW_TOLERANCE_A:
            self._over_since.pop(serial, None)
            if serial in self._flagged:
                self._flagged.discard(serial)
                log.warning("charger %s follows its limit again", serial)
            return False
        since = self._over_since.setdefault(serial, now_s)
        over = now_s - since > 2 * response_s
        if over and serial not in self._flagged:
            self._flagged.add(serial)
            log.warning(
                "charger %s draws %.1f A but may draw %.1f A; its excess is reserved and "
                "taken from the others",
                serial,
                drawn_a,
                allowed,
            )
        return over

    async def _act(self, allocation: Allocation, now_s: float) -> None:
        """Act: decreases first (awaited), then increases and renewals."""
        decreases: list[tuple[MemberSpec, float]] = []
        increases: list[tuple[MemberSpec, float]] = []
        for c in allocation.chargers:
            member = self._members.get(c.charger_id)
            st = self._telemetry.state(c.charger_id)
            if member is None or not st.online:
                continue  # it cannot be told anything; its profiles expire into its failsafe
            sent = self._sent.get(c.charger_id)
            if sent is None or abs(sent.current_a - c.current_a) > 1e-6 or not sent.accepted:
                (
                    decreases if sent is not None and c.current_a < sent.current_a else increases
                ).append((member, c.current_a))
            elif sent.failsafe_a is not None and sent.failsafe_a > self._failsafe(member):
                decreases.append((member, c.current_a))  # a lowered failsafe goes out at once
            elif now_s - sent.at_s >= self._renew_after(sent):
                increases.append((member, c.current_a))
        if decreases:
            await asyncio.gather(*(self._send(m, a, now_s) for m, a in decreases))
        if increases:
            await asyncio.gather(*(self._send(m, a, now_s) for m, a in increases))

    def _renew_after(self, sent: Sent) -> float:
        """How long an accepted limit stands before it is renewed: longer for a quiet one
        (at or below the failsafe sent with it), whose lease is longer."""
        if sent.failsafe_a is not None and sent.current_a <= sent.failsafe_a:
            return self._renew_quiet_every_s
        return self._renew_every_s

    async def _send(self, member: MemberSpec, current_a: float, now_s: float) -> None:
        failsafe = self._failsafe(member)
        try:
            accepted = await self._commands.set_limit(
                member.serial, current_a, failsafe_current_a=failsafe
            )
        except Exception as exc:
            log.warning("limit for %s not delivered: %s", member.serial, exc)
            accepted = False
        self._sent[member.serial] = Sent(current_a, now_s, accepted, failsafe if accepted else None)
        if accepted:
            held = self._held.setdefault(member.serial, deque())
            if not held or held[-1][1] != current_a:  # a change (a renewal changes nothing)
                st = self._telemetry.state(member.serial)
                slower_s = self._reaction_s(member.serial, st.session_id) - EV_REACTION_S
                self._sample_due[member.serial] = now_s + SAMPLE_AFTER_CHANGE_S + slower_s
                early_s = self._tunables().raise_sample_after_s
                if early_s < SAMPLE_AFTER_CHANGE_S + slower_s and (
                    not held or current_a > held[-1][1]
                ):
                    self._raise_sample_due[member.serial] = now_s + early_s
                held.append((now_s, current_a))
            # Keep what a sample up to HELD_KEEP_S old needs: every change since, and the
            # limit in effect before them. Time, not a count, so fast changes lose nothing.
            while len(held) > 1 and held[1][0] <= now_s - HELD_KEEP_S:
                held.popleft()

    async def _fail_closed(self, now_s: float) -> None:
        await asyncio.gather(
            *(
                self._send(m, self._failsafe(m), now_s)
                for m in self.spec.members
                if self._telemetry.state(m.serial).online
            )
        )

    # -- tell the world -------------------------------------------------------------------

    def _publish(self, snapshot: Snapshot, allocation: Allocation, now_s: float) -> None:
        """Record the setpoint history and publish the live view. The view is built only
        when someone reads it (a dashboard, the API): a loop cycles every second and
        nobody may be looking; what it shows is taken now, so it is this cycle's."""
        if self._history is not None:
            self._record_history(snapshot, allocation, now_s)
        spec = self.spec
        seen = [
            (st.online, st.controllable)
            for st in map(self._telemetry.state, (c.charger_id for c in snapshot.chargers))
        ]
        view = self._meters.view(spec.meter_serial) if self._meters and spec.meter_serial else None
        age_s = None if view is None or view.age_s is None else round(view.age_s, 2)
        extra = {
            "algorithm": spec.algorithm,
            "version": spec.version,
            "cycles": self.cycles,
            "offline_budget_lowered_a": None
            if self.offline_budget is None
            else [round(self.offline_budget.of(line), 1) for line in spec.config.grid.lines],
        }
        self._board.publish_lazy(
            spec.group_id,
            lambda: _live_view(spec, snapshot, allocation, now_s, seen, age_s, extra),
        )

    def _record_history(self, snapshot: Snapshot, allocation: Allocation, now_s: float) -> None:
        assert self._history is not None
        by_id = allocation.by_id()
        for c in snapshot.chargers:
            a = by_id.get(c.charger_id)
            if a is None or now_s - self._last_history_s.get(c.charger_id, -1e9) < 1.0:
                continue
            self._last_history_s[c.charger_id] = now_s
            member = self._members.get(c.charger_id)
            if member is not None:
                self._history.add_setpoint(
                    SetpointPoint(
                        group_id=self.spec.group_id,
                        charger_id=member.charger_id,
                        at_s=now_s,
                        current_a=a.current_a,
                        actual_a=car_current_a(self.spec.config.grid, c.wiring, c.measured_a)
                        if c.measured_a
                        else None,
                        reason=a.reason.text,
                    )
                )


def _live_view(
    spec: GroupSpec,
    snapshot: Snapshot,
    allocation: Allocation,
    now_s: float,
    seen: list[tuple[bool, bool]],
    meter_age_s: float | None,
    extra: dict[str, object],
) -> GroupLive:
    """The live view of one cycle; ``seen`` is each charger's (online, controllable)."""
    actual_by_line: dict[str, dict[str, float]] = {}
    for c in snapshot.chargers:
        lines: dict[str, float] = {}
        if c.measured_a is not None:
            for k, line in enumerate(c.wiring[: len(c.measured_a)]):
                lines[line] = lines.get(line, 0.0) + c.measured_a[k]
        actual_by_line[c.charger_id] = lines
    meter = snapshot.meter
    grid_lines = spec.config.grid.lines
    line_live = []
    for budget in allocation.lines:
        chargers_a = sum(a.get(budget.line, 0.0) for a in actual_by_line.values())
        load = (
            meter.currents_a.of(budget.line)
            if meter is not None and allocation.meter_online
            else None
        )
        line_live.append(
            LineLive(
                line=budget.line,
                load_a=round(
                    load if load is not None else chargers_a + (budget.other_load_a or 0.0), 2
                ),
                chargers_a=round(chargers_a, 2),
                limit_a=round(budget.limit_a, 2),
                fuse_a=spec.config.max_supply_current_a,
                group_limit_a=spec.config.max_current_online_a,
                binding=budget.source.describe(budget.line),
                site_limit_a=None if budget.site_limit_a is None else round(budget.site_limit_a, 2),
            )
        )
    chargers_live = []
    by_id = allocation.by_id()
    for c, (online, controllable) in zip(snapshot.chargers, seen, strict=True):
        a = by_id.get(c.charger_id)
        if not online:
            state = "offline"
        elif not controllable:
            state = "not_controllable"
        elif c.session_id is None:
            state = "idle"
        elif a is not None and a.current_a > 0:
            state = "charging"
        else:
            state = "paused"
        chargers_live.append(
            ChargerLive(
                serial=c.charger_id,
                state=state,
                online=online,
                setpoint_a=None if a is None else a.current_a,
                actual_a=tuple(
                    round(actual_by_line[c.charger_id].get(line, 0.0), 2) for line in grid_lines
                ),
                reason=a.reason.text if a is not None else "",
                needs=_needs_text(c, now_s),
            )
        )
    return GroupLive(
        group_id=spec.group_id,
        at=datetime.fromtimestamp(now_s, UTC),
        state="active",
        meter=MeterLive(
            serial=spec.meter_serial,
            online=allocation.meter_online,
            age_s=meter_age_s,
            current_a=tuple(meter.currents_a.of(line) for line in grid_lines) if meter else (),
        ),
        lines=tuple(line_live),
        chargers=tuple(chargers_live),
        extra=extra,
    )


def _needs_text(ch: ChargerInput, now_s: float) -> str:
    """What a session's car said it needs, for people ("" when it said nothing)."""
    parts = []
    if ch.energy_wanted_kwh is not None:
        parts.append(f"car wants {ch.energy_wanted_kwh:.1f} kWh")
    if ch.departure_s is not None:
        left_min = round((ch.departure_s - now_s) / 60.0)
        if left_min <= 0:
            parts.append("past the departure it gave")
        else:
            parts.append(f"leaves in {left_min // 60} h {left_min % 60:02d} min")
    return ", ".join(parts)


KEEP_MEMORY_EVERY_S = 60.0
"""How often a loop stores what its sessions have had: a restart loses at most this much."""


def sharing_memory(spec: GroupSpec, state: AlgorithmState) -> dict[str, object]:
    """What to store of a group's algorithm state (see :func:`restored_state`)."""
    return {
        "algorithm": spec.algorithm,
        "version": spec.version,
        "state": state.carried_over().to_json(),
    }


def restored_state(spec: GroupSpec) -> AlgorithmState | None:
    """The stored sharing memory of the group's own algorithm version, if any and readable
    (another version keeps its memory differently, so it starts afresh)."""
    data = spec.sharing_memory
    if not data or (data.get("algorithm"), data.get("version")) != (spec.algorithm, spec.version):
        return None
    try:
        return AlgorithmState.from_json(data["state"]).carried_over()
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("group %s: stored sharing memory not used: %s", spec.group_id, exc)
        return None
