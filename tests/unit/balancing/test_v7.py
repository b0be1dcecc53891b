"""Version 7: a car that wants no energy keeps its minimum only on room the others leave.

Found on the office car park (bench_balancing): a full car that rotation had restarted
held its 6 A for the whole minimum on time (15 min), drawing nothing, while three-phase
cars that wanted energy waited; once paused it was restarted within seconds on "spare"
room. Every case is worked out by hand; the safety invariants hold for version 7 too
(test_properties).
"""

from __future__ import annotations

from fuseshare.balancing import AlgorithmState, ChargerInput, Grid, ReasonCode, SessionState

from .support import charger, config, run

TN3 = Grid.TN_400_3P


def _wanting(cid: str, setpoint_a: float, **kw: object) -> ChargerInput:
    return charger(cid, setpoint_a=setpoint_a, **kw)


def _full(setpoint_a: float) -> ChargerInput:
    return charger("B", setpoint_a=setpoint_a, wants_energy=False)


def _state(**sessions: SessionState) -> AlgorithmState:
    return AlgorithmState(now_s=-1.0, sessions=dict(sessions))


def _by_id(chargers: list[ChargerInput], room: float, state: AlgorithmState, version: int) -> dict:
    allocation, _ = run(
        config(TN3, offline=room, meter=False), chargers, version=version, state=state
    )
    return {a.charger_id: a for a in allocation.chargers}


def _beside_two_at_their_max(b_setpoint_a: float, b: SessionState, version: int) -> dict:
    """18 A per line; A and C run at their 6 A maximum (6 A are spare); B is full."""
    chargers = [
        _wanting("A", 6.0, max_current_a=6.0),
        _full(b_setpoint_a),
        _wanting("C", 6.0, max_current_a=6.0),
    ]
    state = _state(A=SessionState("s-A", True, -3600.0), B=b, C=SessionState("s-C", True, -3600.0))
    return _by_id(chargers, 18.0, state, version)


def test_a_full_car_inside_its_minimum_on_time_gives_its_minimum_to_a_waiting_car() -> None:
    """12 A per line: room for two minima. A runs (on for an hour), B is full and was
    restarted 100 s ago, C has waited an hour. Version 6 keeps B (minimum on time), so
    A and C take turns at the other minimum (this cycle C, which has had less, replaces
    A). Version 7 pauses B ("car wants no energy"), keeps A and starts C once B has let
    go of its 6 A (this cycle C is granted it and waits for B's release)."""
    chargers = [_wanting("A", 6.0), _full(6.0), _wanting("C", 0.0)]
    state = _state(
        A=SessionState("s-A", True, -3600.0),
        B=SessionState("s-B", True, -100.0),
        C=SessionState("s-C", False, -3600.0),
    )
    six = _by_id(chargers, 12.0, state, version=6)
    assert (six["A"].current_a, six["B"].current_a, six["C"].target_a) == (0.0, 6.0, 6.0)
    assert six["A"].reason.code is ReasonCode.PAUSED_ROTATION
    seven = _by_id(chargers, 12.0, state, version=7)
    assert seven["A"].current_a == 6.0
    assert seven["B"].current_a == 0.0
    assert seven["B"].reason.code is ReasonCode.PAUSED_FULL
    assert seven["C"].target_a == 6.0
    assert seven["C"].reason.code is ReasonCode.WAITING_RELEASE


def test_a_paused_full_car_is_not_restarted_inside_its_minimum_off_time() -> None:
    """18 A per line, A and C run at their 6 A maximum: 6 A are spare. B is full and was
    paused 100 s ago (minimum off time 300 s). Version 6 restarts it on the spare room;
    version 7 leaves it paused until its minimum off time is over, then it may have it."""
    paused = SessionState("s-B", False, -100.0)
    assert _beside_two_at_their_max(0.0, paused, version=6)["B"].current_a == 6.0
    seven = _beside_two_at_their_max(0.0, paused, version=7)
    assert seven["B"].current_a == 0.0
    assert seven["B"].reason.code is ReasonCode.PAUSED_FULL
    later = SessionState("s-B", False, -400.0)
    assert _beside_two_at_their_max(0.0, later, version=7)["B"].current_a == 6.0


def test_a_full_car_keeps_its_minimum_on_room_nobody_else_can_use() -> None:
    """18 A per line, A and C at their 6 A maximum, B full and running: the 6 A left are
    nobody else's, so B keeps its minimum (a car that resumes, e.g. to warm its battery,
    can draw at once), shown as "car wants no energy: kept at min"."""
    seven = _beside_two_at_their_max(6.0, SessionState("s-B", True, -3600.0), version=7)
    assert seven["B"].current_a == 6.0
    assert seven["B"].reason.code is ReasonCode.CAR_FULL


def test_a_car_that_wants_energy_again_rejoins_the_rotation() -> None:
    """B told it wants energy again (its connector left SuspendedEV): it ranks like any
    other paused session by what it has had, and, having had least, starts before A."""
    b = charger("B", setpoint_a=0.0)
    chargers = [_wanting("A", 0.0), b]
    state = _state(
        A=SessionState("s-A", False, -3600.0, 50_000.0),
        B=SessionState("s-B", False, -3600.0, 10_000.0),
    )
    seven = _by_id(chargers, 6.0, state, version=7)
    assert (seven["A"].current_a, seven["B"].target_a) == (0.0, 6.0)


def _said_full(said_s: float, **kw: object) -> dict:
    """12 A per line: room for two minima. A runs, C has waited (and had more than B);
    B's car said it was full at ``said_s`` and was paused then. Its charger now shows
    SuspendedEVSE (it offers nothing), so B's input says it wants energy."""
    chargers = [_wanting("A", 6.0), charger("B", setpoint_a=0.0, **kw), _wanting("C", 0.0)]
    state = _state(
        A=SessionState("s-A", True, -3600.0, 90_000.0),
        B=SessionState("s-B", False, said_s, 10_000.0, full_said_s=said_s),
        C=SessionState("s-C", False, -3600.0, 50_000.0),
    )
    return _by_id(chargers, 12.0, state, version=7)


def test_a_paused_full_car_counts_as_full_until_its_probe_though_its_charger_says_otherwise() -> (
    None
):
    """100 s after B said it was full it still counts as full (probe interval 600 s):
    C, which wants energy, gets the minimum A leaves, not B. 700 s after, B gets its turn
    (it has had least): if it is still full it says so at once and is paused again."""
    soon = _said_full(-100.0)
    assert soon["B"].current_a == 0.0
    assert soon["B"].reason.code is ReasonCode.PAUSED_FULL
    assert soon["C"].target_a == 6.0
    later = _said_full(-700.0)
    assert later["B"].target_a == 6.0
    assert later["B"].reason.code is not ReasonCode.PAUSED_FULL


def test_a_car_that_draws_after_it_said_full_wants_energy_again() -> None:
    """B's charger reported 8 A a second ago, after B said it was full: it wants again,
    and waits out its minimum off time like any car that wants (then rotation decides)."""
    drawing = _said_full(-100.0, measured_a=(8.0, 8.0, 8.0), measured_at_s=-1.0)
    assert drawing["B"].reason.code is ReasonCode.PAUSED_MIN_OFF
    stale = _said_full(-100.0, measured_a=(8.0, 8.0, 8.0), measured_at_s=-150.0)
    assert stale["B"].reason.code is ReasonCode.PAUSED_FULL  # sampled before it said full


def test_the_full_memory_round_trips_and_older_stored_states_load_without_it() -> None:
    _, state = run(config(TN3, offline=12.0, meter=False), [_full(6.0)], version=7, now_s=5.0)
    assert state.sessions["B"].full_said_s == 5.0
    assert AlgorithmState.from_json(state.to_json()) == state
    older = state.to_json()
    del older["sessions"]["B"]["full_said_s"]
    assert AlgorithmState.from_json(older).sessions["B"].full_said_s is None
