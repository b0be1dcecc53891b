"""Algorithms by name and version.

A group stores its algorithm's name and version; a new group gets
:func:`newest_version`. A change of behaviour is a new version registered here
next to the old ones, so running installations never change under their owners'
feet.
"""

from __future__ import annotations

from dataclasses import replace

from fuseshare.balancing.algorithm import Algorithm
from fuseshare.balancing.snapshot import Tunables
from fuseshare.balancing.standard import Features, StandardAlgorithm


class UnknownAlgorithmError(LookupError):
    """No algorithm with that name, or not in that version."""


# Each version is the one before with some features switched on (and its own defaults).
_V2_FEATURES = Features(
    use_meter=True, learn_phases=True, unused_capacity=True, rotation=True, pacing=True
)
_V3_FEATURES = _V2_FEATURES._replace(estimate_draws=True, spare_room_restarts=True)
_V3_TUNABLES = replace(Tunables(), increase_hold_s=5.0)
_V4_FEATURES = _V3_FEATURES._replace(
    served_by_energy=True, starts_on_held_room=True, noise_on_fuse_only=True
)
_V4_TUNABLES = replace(_V3_TUNABLES, increase_margin_fraction=0.01, small_increase_after_s=60.0)
_V5_FEATURES = _V4_FEATURES._replace(shares_by_needs=True)
_V6_FEATURES = _V5_FEATURES._replace(plans_by_needs=True)
_V7_FEATURES = _V6_FEATURES._replace(full_cars_last=True)
_V8_FEATURES = _V7_FEATURES._replace(fine_fairness=True)
_V9_FEATURES = _V8_FEATURES._replace(fresh_draws=True)
_V9_TUNABLES = replace(_V4_TUNABLES, raise_sample_after_s=2.0)
_V10_FEATURES = _V9_FEATURES._replace(less_while_moving=True)
_V11_FEATURES = _V10_FEATURES._replace(plan_weighs_alone=True, plan_knows_turns=True)

_ALGORITHMS: dict[tuple[str, int], Algorithm] = {
    ("standard", 1): StandardAlgorithm(
        version=1,
        features=Features(
            use_meter=False, learn_phases=False, unused_capacity=False, rotation=False, pacing=False
        ),
        description=(
            "Shares the offline budget statically between sessions by weight; needs no meter. "
            "Chargers that lost their link keep their failsafe current reserved."
        ),
    ),
    ("standard", 2): StandardAlgorithm(
        version=2,
        features=_V2_FEATURES,
        description=(
            "Per-line sharing of the main fuse using the meter (offline budget when it is stale), "
            "phase learning, fair rotation of paused sessions, unused capacity handed on, "
            "paced increases."
        ),
    ),
    ("standard", 3): StandardAlgorithm(
        version=3,
        features=_V3_FEATURES,
        defaults=_V3_TUNABLES,
        description=(
            "Version 2, with each car's draw taken as the lowest limit it may still be "
            "following (not its last sample), increases held until every reading of the "
            "last 5 s leaves the room (meter noise opens nothing), and paused sessions "
            "restarted early on room nobody else can use."
        ),
    ),
    ("standard", 4): StandardAlgorithm(
        version=4,
        features=_V4_FEATURES,
        defaults=_V4_TUNABLES,
        description=(
            "Version 3, with paused sessions rotated by the energy their cars drew "
            "(not the amperes offered), increases and starts keeping 1 % of each line's "
            "reading free against meter noise (below the fuse only, not the group limit), "
            "raises below the deadband sent once a setpoint has stood a minute, and paused "
            "sessions started only on room that increases may use, the others' shares sized "
            "so that they fit."
        ),
    ),
    ("standard", 5): StandardAlgorithm(
        version=5,
        features=_V5_FEATURES,
        defaults=_V4_TUNABLES,
        description=(
            "Version 4, sharing by what the cars say they need where they say it (energy "
            "and departure, ISO 15118 through OCPP 2.0.1 NotifyEVChargingNeeds): paused "
            "sessions rotate by the share of their wanted energy they will have had by "
            "their departure (cars leaving soon first), and shares grow with the current "
            "a car needs to be done by its departure. Without needs it is version 4."
        ),
    ),
    ("standard", 6): StandardAlgorithm(
        version=6,
        features=_V6_FEATURES,
        defaults=_V4_TUNABLES,
        description=(
            "Version 5, with a plan over the time until the cars leave, made every minute "
            "from what they said they need: cars that leave soon are served while they are "
            "there, the others later, so that no line stands idle once those that could use "
            "it alone have gone. Without needs it is version 4."
        ),
    ),
    ("standard", 7): StandardAlgorithm(
        version=7,
        features=_V7_FEATURES,
        defaults=_V4_TUNABLES,
        description=(
            "Version 6, with cars that want no energy (full, or waiting on a timer of their "
            "own) keeping their minimum only on room that the cars that want energy leave "
            "over: they are not protected by the minimum on time, are not restarted early "
            "once paused, and count as full until they draw again or the probe interval "
            "(10 min) has passed since they last said so."
        ),
    ),
    ("standard", 8): StandardAlgorithm(
        version=8,
        features=_V8_FEATURES,
        defaults=_V4_TUNABLES,
        description=(
            "Version 7, with the plan evening out the fractions of their wanted energy "
            "that the cars get in twentieths instead of tenths (within a tenth, energy "
            "decided, and a one-phase car beside three-phase ones could be held up to a "
            "tenth below them). Without needs it is version 7."
        ),
    ),
    ("standard", 9): StandardAlgorithm(
        version=9,
        features=_V9_FEATURES,
        defaults=_V9_TUNABLES,
        description=(
            "Version 8, with a car that follows a raise faster than IEC's 5 s counted on "
            "what it draws: the loop asks for a sample 2 s after each raise, and a sample "
            "taken under the present limit says what the car draws (on its way up, and not "
            "for cars shown slower than IEC). Before, such a car's current looked like the "
            "building's until 5 s had passed, so it was paused and restarted over and over."
        ),
    ),
    ("standard", 10): StandardAlgorithm(
        version=10,
        features=_V10_FEATURES,
        defaults=_V9_TUNABLES,
        description=(
            "Version 9, with a car whose sample lies well below every limit it may have "
            "been following counted on that sample also while its limit keeps moving. "
            "Before, only a sample under a limit that stood a reaction time showed a car "
            "that takes less than offered; under a moving limit it was counted on the limit, "
            "and the building looked smaller than it was."
        ),
    ),
    ("standard", 11): StandardAlgorithm(
        version=11,
        features=_V11_FEATURES,
        defaults=_V9_TUNABLES,
        description=(
            "Version 10, with the plan followed as it was made and knowing the turns: a car's "
            "share is its planned current (times its priority), no longer also scaled by the "
            "current it needs, which the plan had weighed already; a car inside its minimum "
            "on time keeps its minimum in the plan until that ends, one inside its minimum "
            "off time gets nothing until then, and of plans worth the same the one that "
            "keeps the running cars running wins. Without needs it is version 10."
        ),
    ),
}


def list_algorithms() -> list[tuple[str, int, str]]:
    """Every registered (name, version, description), sorted by name then version."""
    return [(name, version, a.description) for (name, version), a in sorted(_ALGORITHMS.items())]


def newest_version(name: str) -> int:
    """The newest version of ``name``: what a new group gets."""
    versions = [v for (n, v) in _ALGORITHMS if n == name]
    if not versions:
        raise UnknownAlgorithmError(f"unknown balancing algorithm '{name}'; known: {_names()}")
    return max(versions)


def get_algorithm(name: str, version: int | None = None) -> Algorithm:
    """The algorithm ``name`` at ``version`` (the newest when None)."""
    if version is None:
        version = newest_version(name)
    try:
        return _ALGORITHMS[(name, version)]
    except KeyError:
        versions = sorted(v for (n, v) in _ALGORITHMS if n == name)
        if not versions:
            raise UnknownAlgorithmError(
                f"unknown balancing algorithm '{name}'; known: {_names()}"
            ) from None
        raise UnknownAlgorithmError(
            f"balancing algorithm '{name}' has no version {version}; "
            f"available: {', '.join(map(str, versions))}"
        ) from None


def _names() -> str:
    return ", ".join(sorted({n for n, _ in _ALGORITHMS}))
