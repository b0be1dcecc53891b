"""Register maps: addresses, encodings, word order and scaling, checked against raw words."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuseshare.meters.modbus import (
    EM24,
    REGISTER_MAPS,
    SDM630,
    ModbusMeterSettings,
    Register,
    decode_registers,
    decode_value,
    encode_registers,
    encode_value,
)


def test_sdm630_is_float32_high_word_first_in_input_registers() -> None:
    assert SDM630.function == "input"
    assert [r.address for r in SDM630.current_a] == [0x0006, 0x0008, 0x000A]
    assert [r.address for r in SDM630.voltage_v or ()] == [0x0000, 0x0002, 0x0004]
    assert [r.address for r in SDM630.power_w or ()] == [0x000C, 0x000E, 0x0010]
    assert SDM630.energy_kwh == Register(0x0048, "float32")
    # 230.0 as IEEE-754 is 0x43660000: high word first.
    assert encode_value(SDM630.voltage_v[0], 230.0, "big") == [0x4366, 0x0000]  # type: ignore[index]
    assert decode_value(SDM630.current_a[0], [0x4141, 0x999A], "big") == pytest.approx(
        12.1, abs=1e-5
    )


def test_em24_is_int32_low_word_first_with_fixed_point_scaling() -> None:
    assert EM24.function == "input"
    assert [r.address for r in EM24.current_a] == [0x000C, 0x000E, 0x0010]
    assert [r.address for r in EM24.power_w or ()] == [0x0012, 0x0014, 0x0016]
    assert EM24.energy_kwh is not None and EM24.energy_kwh.address == 0x0034
    # 12.345 A is 12345 mA = 0x00003039; the low word comes first.
    assert encode_value(EM24.current_a[0], 12.345, "little") == [0x3039, 0x0000]
    assert decode_value(EM24.current_a[0], [0x3039, 0x0000], "little") == pytest.approx(12.345)
    # 231.4 V is 2314 (×10); -1500.0 W is -15000 (×10) = 0xFFFFC568.
    assert decode_value(EM24.voltage_v[0], [2314, 0], "little") == pytest.approx(231.4)  # type: ignore[index]
    assert decode_value(EM24.power_w[1], [0xC568, 0xFFFF], "little") == pytest.approx(-1500.0)  # type: ignore[index]


def test_each_map_needs_only_a_few_requests() -> None:
    assert SDM630.blocks() == [(0x0000, 0x12), (0x0048, 2)]
    assert EM24.blocks() == [(0x0000, 0x18), (0x0034, 2)]
    for register_map in REGISTER_MAPS.values():
        for _, count in register_map.blocks():
            assert count <= register_map.max_block_words


@pytest.mark.parametrize("register_map", [SDM630, EM24], ids=lambda m: m.model)
def test_current_is_a_magnitude_and_the_direction_is_in_the_power(register_map) -> None:  # type: ignore[no-untyped-def]
    values = {
        "current_a": (10.0, 6.5, 0.0),
        "voltage_v": (230.0, 231.0, 229.0),
        "power_w": (2250.0, -1480.0, 0.0),  # L2 exports (PV)
        "energy_kwh": 1234.5,
    }
    decoded = decode_registers(register_map, encode_registers(register_map, values))
    assert decoded["current_a"] == pytest.approx(values["current_a"], abs=1e-3)
    assert decoded["power_w"] == pytest.approx(values["power_w"], abs=0.1)
    assert decoded["energy_kwh"] == pytest.approx(1234.5, abs=0.1)


def test_a_negative_current_register_still_gives_a_magnitude() -> None:
    memory = encode_registers(EM24, {"current_a": (-7.0, 1.0, 1.0)})
    memory.update(encode_registers(EM24, {"voltage_v": (230.0,) * 3, "power_w": (-1600.0, 0, 0)}))
    memory.update(encode_registers(EM24, {"energy_kwh": 1.0}))
    assert decode_registers(EM24, memory)["current_a"][0] == pytest.approx(7.0)


@given(st.integers(min_value=-(2**31), max_value=2**31 - 1))
@settings(max_examples=200, deadline=None)
def test_int32_words_round_trip_in_both_word_orders(raw: int) -> None:
    reg = Register(0, "int32")
    for order in ("big", "little"):
        assert decode_value(reg, encode_value(reg, raw, order), order) == raw  # type: ignore[arg-type]


def test_unknown_model_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="known: em24, sdm630"):
        _ = ModbusMeterSettings(serial="X", host="h", model="abb").register_map
