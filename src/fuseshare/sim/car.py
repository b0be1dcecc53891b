"""A virtual car: what it draws from the current its charger offers.

The car draws, per phase, the least of (SCENARIOS.md):

* its onboard charger's maximum, reduced by the taper near a full battery;
* the limit it has seen for at least ``response_s`` (IEC 61851 gives a car up to
  5 s to follow a new pilot signal, up or down): the limit in force at
  ``now − response_s``; before that it was not plugged in, so 0;
* what its battery still needs in this step.

Below 6 A offered a car may not draw at all (IEC 61851), so a limit below 6 A
(other than exactly what a charger offers as failsafe, which is at least 6 A
when it is to charge at all) means 0.

The taper: above ``taper_from_soc`` the car's maximum falls linearly to 10 % of
it at a full battery. Pure and deterministic: time comes in as an argument.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

IEC_MIN_A = 6.0
TAPER_FLOOR = 0.1
"""At 100 % state of charge the car still takes this fraction of its maximum."""
FULL_EPSILON_KWH = 1e-6


@dataclass
class VirtualCar:
    """One car plugged in at ``arrive_s``. Energies in kWh, currents in A per phase."""

    max_current_a: float
    watts_per_amp: float
    """Charging power per ampere of car current (depends on the grid and the car's phases)."""
    energy_kwh: float
    """What the session asks for."""
    arrive_s: float
    battery_kwh: float = 75.0
    soc_start: float = 0.2
    taper_from_soc: float = 0.8
    response_s: float = 5.0
    delivered_kwh: float = 0.0
    _limits: deque[tuple[float, float]] = field(default_factory=deque)

    @property
    def remaining_kwh(self) -> float:
        return max(0.0, self.energy_kwh - self.delivered_kwh)

    @property
    def soc(self) -> float:
        return min(1.0, self.soc_start + self.delivered_kwh / self.battery_kwh)

    @property
    def wants_energy(self) -> bool:
        return self.remaining_kwh > FULL_EPSILON_KWH and self.soc < 1.0

    def connector_status(self, offered_a: float) -> str:
        """The OCPP 1.6 connector status its charger reports while it offers ``offered_a``:
        ``SuspendedEVSE`` while the charger offers nothing (whatever the car wants: the
        charger cannot tell), ``SuspendedEV`` while it offers current the car does not
        want, else ``Charging``."""
        if offered_a <= 0.0:
            return "SuspendedEVSE"
        return "Charging" if self.wants_energy else "SuspendedEV"

    def taper_cap_a(self) -> float:
        """The car's own maximum at its present state of charge."""
        soc = self.soc
        if soc <= self.taper_from_soc or self.taper_from_soc >= 1.0:
            return self.max_current_a
        fraction = (1.0 - soc) / (1.0 - self.taper_from_soc)
        return self.max_current_a * max(TAPER_FLOOR, fraction)

    def offer(self, t_s: float, limit_a: float) -> None:
        """The charger offers ``limit_a`` from ``t_s`` on (call whenever it may have changed)."""
        if not self._limits or self._limits[-1][1] != limit_a:
            self._limits.append((t_s, limit_a))

    def seen_limit_a(self, t_s: float) -> float:
        """The limit in force ``response_s`` ago (0 before the car saw any)."""
        cutoff = t_s - self.response_s
        limits = self._limits
        while len(limits) >= 2 and limits[1][0] <= cutoff:
            limits.popleft()
        if limits and limits[0][0] <= cutoff:
            value = limits[0][1]
            return value if value >= IEC_MIN_A - 1e-9 else 0.0
        return 0.0

    def draw_a(self, t_s: float, dt_s: float) -> float:
        """The current the car draws during ``[t_s, t_s + dt_s)``; does not charge."""
        if not self.wants_energy:
            return 0.0
        current = min(self.taper_cap_a(), self.seen_limit_a(t_s))
        if current <= 0.0:
            return 0.0
        need_a = self.remaining_kwh * 3.6e6 / (self.watts_per_amp * dt_s)
        return min(current, need_a)

    def step(self, t_s: float, dt_s: float, limit_a: float) -> float:
        """Offer ``limit_a`` at ``t_s``, draw for ``dt_s`` and charge; returns the current drawn."""
        self.offer(t_s, limit_a)
        current = self.draw_a(t_s, dt_s)
        self.delivered_kwh += current * self.watts_per_amp * dt_s / 3.6e6
        return current
