"""Baselines for the benchmark: what sites do without fuseshare's balancing.

* :class:`NoControl`: every charger offers its maximum; every car draws what it can.
* :class:`StaticSplit`: the group limit (``max_current_online_a``) shared equally
  between the cars plugged in, phase-blind and without a meter (the "load
  sharing" built into many chargers). When the share falls below the minimum,
  the first arrivals get the minimum and the rest wait.
* :class:`FirstComeFirstServed`: like evcc's circuits: the meter's worst line
  decides the headroom (phase-blind), re-evaluated every ``interval_s``; cars in
  arrival order take what they can until nothing is left; a stale meter means
  the offline budget.

They drive the same virtual chargers through the same site as the real loop,
so every figure in the benchmark is measured the same way. Their limits do not
expire (they renew them forever).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from fuseshare.ocpp.ports import ChargingNeeds
from fuseshare.sim.scenario import Scenario
from fuseshare.sim.virtual_charger import VirtualCharger


class _Baseline:
    label = "baseline"
    algorithm = "baseline"
    version = 0

    def __init__(self) -> None:
        self._sent = 0
        self._sessions: dict[str, int] = {}
        self._order = 0
        self._measured: dict[str, tuple[float, float, float]] = {}
        self._reading: list[float] | None = None
        self._reading_at_s = -math.inf

    @property
    def setpoints_sent(self) -> int:
        return self._sent

    def bind(
        self, scenario: Scenario, chargers: dict[str, VirtualCharger], clock: Callable[[], float]
    ) -> None:
        self._scenario = scenario
        self._chargers = chargers
        self._clock = clock

    async def start(self) -> None:
        self._sessions.clear()
        self._measured.clear()
        self._reading = None

    def stop(self) -> None:
        pass

    def site_limits_a(self) -> tuple[float | None, float | None, float | None]:
        return (None, None, None)

    def link(self, serial: str, online: bool) -> None:
        pass

    def status(self, serial: str, status: str) -> None:
        pass

    def session_started(self, serial: str, tx: str) -> None:
        self._order += 1
        self._sessions[serial] = self._order

    def session_stopped(self, serial: str, tx: str) -> None:
        self._sessions.pop(serial, None)
        self._measured.pop(serial, None)

    def charging_needs(self, serial: str, needs: ChargingNeeds) -> None:
        pass  # the baselines share by arrival or equally, whatever the cars say

    def charger_sample(self, serial: str, terminal_a: tuple[float, float, float]) -> None:
        self._measured[serial] = terminal_a

    async def meter_reading(self, now_s: float, current_a: list[float]) -> None:
        self._reading = current_a
        self._reading_at_s = now_s

    def _set(self, serial: str, current_a: float, reason: str) -> None:
        charger = self._chargers[serial]
        if not charger.link_up:
            return
        now_s = self._clock()
        if charger.has_limit(now_s) and charger.limit_a == current_a:
            return
        charger.apply(now_s, current_a, lifetime_s=math.inf, reason=reason)
        self._sent += 1

    def _arrivals(self) -> list[str]:
        return sorted(self._sessions, key=self._sessions.__getitem__)

    async def cycle(self, now_s: float) -> None:
        raise NotImplementedError


class NoControl(_Baseline):
    label = "no control"
    algorithm = "no_control"

    async def cycle(self, now_s: float) -> None:
        for serial, charger in self._chargers.items():
            self._set(serial, charger.spec.max_current_a, "no control: charger max")


class StaticSplit(_Baseline):
    label = "static split"
    algorithm = "static_split"

    async def cycle(self, now_s: float) -> None:
        g = self._scenario.group
        serials = self._arrivals()
        if not serials:
            return
        share = g.max_current_online_a / len(serials)
        admitted = len(serials)
        if share < g.min_current_a:
            admitted = int(g.max_current_online_a // g.min_current_a)
            share = g.min_current_a
        for k, serial in enumerate(serials):
            current = min(share, self._chargers[serial].spec.max_current_a) if k < admitted else 0.0
            self._set(serial, math.floor(current * 10) / 10, "static split of the group limit")


class FirstComeFirstServed(_Baseline):
    label = "first come first served"
    algorithm = "fcfs"

    def __init__(self, interval_s: float = 10.0, meter_max_age_s: float = 10.0) -> None:
        super().__init__()
        self.interval_s = interval_s
        self.meter_max_age_s = meter_max_age_s
        self._next_s = -math.inf

    async def cycle(self, now_s: float) -> None:
        if now_s < self._next_s:
            return
        self._next_s = now_s + self.interval_s
        sc, g = self._scenario, self._scenario.group
        fresh = self._reading is not None and now_s - self._reading_at_s <= self.meter_max_age_s
        if fresh and self._reading is not None:
            other = list(self._reading) + [0.0] * (3 - len(self._reading))
            if g.outlet_active:
                for serial, terminal in self._measured.items():
                    wiring = self._chargers[serial].spec.phases
                    for k, line in enumerate(wiring):
                        other[("L1", "L2", "L3").index(line)] -= terminal[k]
            worst = max(other[: len(sc.grid.lines)])
            headroom = min(
                sc.max_supply_current_a - g.margin_a - worst, g.max_current_online_a - g.margin_a
            )
            reason = "first come first served: main fuse (worst line)"
        else:
            headroom = g.max_current_offline_a
            reason = "first come first served: offline budget"
        for serial in self._arrivals():
            spec = self._chargers[serial].spec
            give = min(spec.max_current_a, headroom)
            if give < g.min_current_a:
                give = 0.0
            give = math.floor(give * 10) / 10
            headroom -= give
            self._set(serial, give, reason)


def baseline(name: str) -> _Baseline:
    """A baseline by name: ``no_control``, ``static_split``, ``fcfs``."""
    kinds: dict[str, type[_Baseline]] = {
        "no_control": NoControl,
        "static_split": StaticSplit,
        "fcfs": FirstComeFirstServed,
    }
    try:
        return kinds[name]()
    except KeyError:
        raise ValueError(f"unknown baseline '{name}'; choose {', '.join(kinds)}") from None


BASELINES = ("no_control", "static_split", "fcfs")
__all__ = ["BASELINES", "FirstComeFirstServed", "NoControl", "StaticSplit", "baseline"]
