"""Each refused setting of the foundation issue, on SQLite and PostgreSQL, with its message."""

from __future__ import annotations

import pytest

from fuseshare.errors import (
    ActivationRefused,
    ConfirmationNeeded,
    Conflict,
    InvalidInput,
    LockedOut,
    NotFound,
    WrongSecret,
)
from fuseshare.workflow import Actor, MembershipSettings

from .conftest import OPERATOR, Site, group_settings


def _fields(exc: InvalidInput) -> dict[str, str]:
    return {e.field: e.message for e in exc.errors}


def test_min_current_below_6_a_is_refused_with_what_would_be_right(site: Site) -> None:
    with pytest.raises(InvalidInput) as info:
        site.wf.groups.create(
            OPERATOR, organization=site.org, settings=group_settings(min_current_a=5)
        )
    message = _fields(info.value)["min_current_a"]
    assert "5 A" in message and "at least 6 A" in message and "set it to 6 A or more" in message
    assert site.wf.groups.list(OPERATOR) == []


def test_max_current_online_above_the_main_fuse_is_refused(site: Site) -> None:
    with pytest.raises(InvalidInput) as info:
        site.wf.groups.create(
            OPERATOR, organization=site.org, settings=group_settings(max_current_online_a=80)
        )
    message = _fields(info.value)["max_current_online_a"]
    assert "(80 A)" in message and "max supply current (63 A" in message
    assert "set it to 63 A or less" in message


def test_offline_budget_above_online_limit_and_absurd_values_are_refused(site: Site) -> None:
    with pytest.raises(InvalidInput) as info:
        site.wf.groups.create(
            OPERATOR,
            organization=site.org,
            settings=group_settings(max_current_offline_a=40, max_supply_current_a=float("nan")),
        )
    fields = _fields(info.value)
    assert "must be a number" in fields["max_supply_current_a"]
    with pytest.raises(InvalidInput) as info:
        site.wf.groups.create(
            OPERATOR, organization=site.org, settings=group_settings(max_current_offline_a=40)
        )
    assert "must get less, not more" in _fields(info.value)["max_current_offline_a"]


def test_name_and_description_are_required(site: Site) -> None:
    with pytest.raises(InvalidInput) as info:
        site.wf.groups.create(
            OPERATOR, organization=site.org, settings=group_settings(name=" ", description="")
        )
    assert set(_fields(info.value)) == {"name", "description"}


def test_a_meter_of_another_organization_is_refused(site: Site) -> None:
    site.wf.devices.add_meter(
        OPERATOR, organization=site.other_org, serial="AG-0002", pin="87654321"
    )
    with pytest.raises(InvalidInput) as info:
        site.wf.groups.create(
            OPERATOR, organization=site.org, settings=group_settings(), meter="AG-0002"
        )
    message = _fields(info.value)["meter"]
    assert "belongs to another organization" in message
    assert "choose a meter of this organization" in message
    assert "Elsewhere" not in message  # another partner's site is not named


def test_phases_the_supply_does_not_have_are_refused(site: Site) -> None:
    site.wf.devices.add_charger(
        OPERATOR, organization=site.org, serial="CH-0001", password="pass-0001"
    )
    site.wf.groups.create(
        OPERATOR, organization=site.org, settings=group_settings(name="Shed", grid="TN_230_1P")
    )
    with pytest.raises(InvalidInput) as info:
        site.wf.groups.import_charger(
            OPERATOR, "Shed", charger="CH-0001", membership=MembershipSettings("L2", 6)
        )
    message = _fields(info.value)["phases"]
    assert "L2 does not exist" in message and "which has L1" in message
    site.wf.groups.create(
        OPERATOR, organization=site.org, settings=group_settings(grid="IT_230_3P")
    )
    with pytest.raises(InvalidInput) as info:
        site.wf.groups.import_charger(
            OPERATOR, "Garage", charger="CH-0001", membership=MembershipSettings("L1", 6)
        )
    assert "sits between two lines" in _fields(info.value)["phases"]
    with pytest.raises(InvalidInput) as info:
        site.wf.groups.import_charger(
            OPERATOR, "Garage", charger="CH-0001", membership=MembershipSettings("L1,L4", 6)
        )
    assert "'L4' is not a grid line" in _fields(info.value)["phases"]


def test_a_charger_in_two_active_groups_is_refused(site: Site) -> None:
    wf = site.wf
    wf.devices.add_charger(OPERATOR, organization=site.org, serial="CH-0001", password="pass-0001")
    wf.groups.create(OPERATOR, organization=site.org, settings=group_settings(name="A"))
    wf.groups.create(OPERATOR, organization=site.org, settings=group_settings(name="B"))
    for name in ("A", "B"):
        wf.groups.import_charger(
            OPERATOR, name, charger="CH-0001", membership=MembershipSettings("L1,L2,L3", 0)
        )
    wf.groups.activate(OPERATOR, "A", confirm=True)
    with pytest.raises(ActivationRefused) as info:
        wf.groups.activate(OPERATOR, "B", confirm=True)
    assert "already in active group 'A'" in info.value.message
    assert "remove it there or deactivate that group" in info.value.message
    assert wf.groups.show(OPERATOR, "B")["state"] == "draft"
    # Importing into an active group is refused the same way.
    wf.groups.deactivate(OPERATOR, "A")
    wf.groups.activate(OPERATOR, "B", confirm=True)
    wf.groups.remove_charger(OPERATOR, "A", "CH-0001")
    wf.devices.add_charger(OPERATOR, organization=site.org, serial="CH-0002", password="pass-0002")
    wf.groups.import_charger(
        OPERATOR, "A", charger="CH-0002", membership=MembershipSettings("L1,L2,L3", 0)
    )
    wf.groups.activate(OPERATOR, "A", confirm=True)
    with pytest.raises(InvalidInput) as info2:
        wf.groups.import_charger(
            OPERATOR, "A", charger="CH-0001", membership=MembershipSettings("L1,L2,L3", 0)
        )
    assert "already in active group 'B'" in info2.value.message


def test_wrong_charger_password_counts_down_then_locks_out(site: Site) -> None:
    wf = site.wf  # the fixture's settings lock after 3 failures
    with pytest.raises(WrongSecret) as info:
        wf.devices.add_charger(OPERATOR, organization=site.org, serial="CH-0001", password="nope")
    assert "wrong password for CH-0001" in info.value.message
    assert (
        "2 tries left" in info.value.message and "card in the charger's box" in info.value.message
    )
    with pytest.raises(WrongSecret):
        wf.devices.add_charger(OPERATOR, organization=site.org, serial="CH-0001", password="nope")
    with pytest.raises(WrongSecret) as info:
        wf.devices.add_charger(OPERATOR, organization=site.org, serial="CH-0001", password="nope")
    assert "locked for 10 minutes" in info.value.message
    # Even the right password is refused while locked.
    with pytest.raises(LockedOut) as locked:
        wf.devices.add_charger(
            OPERATOR, organization=site.org, serial="CH-0001", password="pass-0001"
        )
    assert "too many wrong passwords for CH-0001" in locked.value.message
    assert wf.devices.list_chargers(OPERATOR) == []


def test_wrong_meter_pin_and_pin_format(site: Site) -> None:
    wf = site.wf
    with pytest.raises(InvalidInput) as info:
        wf.devices.add_meter(OPERATOR, organization=site.org, serial="AG-0001", pin="1234")
    assert (
        "exactly 8 digits" in info.value.message and "you gave 4 characters" in info.value.message
    )
    with pytest.raises(WrongSecret) as wrong:
        wf.devices.add_meter(OPERATOR, organization=site.org, serial="AG-0001", pin="11112222")
    assert "wrong PIN for AG-0001" in wrong.value.message
    assert "label underneath" in wrong.value.message
    meter = wf.devices.add_meter(OPERATOR, organization=site.org, serial="AG-0001", pin="12345678")
    assert meter["kind"] == "amp_guard"


def test_unknown_serial_and_charger_of_another_organization(site: Site) -> None:
    wf = site.wf
    with pytest.raises(NotFound) as info:
        wf.devices.add_charger(OPERATOR, organization=site.org, serial="CH-9999", password="x")
    assert "not a charger we know" in info.value.message
    wf.devices.add_charger(
        OPERATOR, organization=site.other_org, serial="CH-0003", password="pass-0003"
    )
    with pytest.raises(Conflict) as conflict:
        wf.devices.add_charger(
            OPERATOR, organization=site.org, serial="CH-0003", password="pass-0003"
        )
    assert "registered to another organization" in conflict.value.message


def test_failsafe_must_be_zero_or_a_chargeable_current_within_the_charger(site: Site) -> None:
    wf = site.wf
    wf.devices.add_charger(OPERATOR, organization=site.org, serial="CH-0003", password="pass-0003")
    wf.groups.create(OPERATOR, organization=site.org, settings=group_settings())
    for failsafe, expected in (
        (3, "below what cars accept"),
        (20, "above the charger's maximum (16 A)"),
    ):
        with pytest.raises(InvalidInput) as info:
            wf.groups.import_charger(
                OPERATOR, "Garage", charger="CH-0003", membership=MembershipSettings("L1", failsafe)
            )
        assert expected in info.value.message


def test_activation_gates_on_errors_and_warnings(site: Site) -> None:
    wf = site.wf
    wf.groups.create(OPERATOR, organization=site.org, settings=group_settings())
    with pytest.raises(ActivationRefused) as refused:
        wf.groups.activate(OPERATOR, "Garage")
    assert "no chargers" in refused.value.message
    wf.devices.add_charger(OPERATOR, organization=site.org, serial="CH-0001", password="pass-0001")
    wf.groups.import_charger(
        OPERATOR, "Garage", charger="CH-0001", membership=MembershipSettings("L1,L2,L3", 6)
    )
    # Outlet active without a meter is a warning: it needs confirmation.
    with pytest.raises(ConfirmationNeeded):
        wf.groups.activate(OPERATOR, "Garage")
    assert wf.groups.activate(OPERATOR, "Garage", confirm=True)["state"] == "active"
    with pytest.raises(Conflict):
        wf.groups.delete(OPERATOR, "Garage")


def test_the_audit_log_records_a_change_with_before_and_after(site: Site) -> None:
    wf = site.wf
    wf.groups.create(OPERATOR, organization=site.org, settings=group_settings())
    installer = Actor(name="ola@nordlys.example", role="installer", partner_id=1)
    wf.groups.update(installer, "Garage", max_current_online_a=40.0, description="New board")
    entries = wf.history.audit_log(OPERATOR, site.org)
    update = next(e for e in entries if e["action"] == "update" and e["entity"] == "group")
    assert update["actor"] == "ola@nordlys.example"
    assert update["before"] == {
        "description": "Underground garage behind the 63 A fuse",
        "max_current_online_a": 32.0,
        "updated_at": update["before"]["updated_at"],
    }
    assert update["after"]["max_current_online_a"] == 40.0
    assert update["after"]["description"] == "New board"
    assert update["at"]


def test_secrets_never_reach_the_audit_log(site: Site) -> None:
    site.wf.devices.add_charger(
        OPERATOR, organization=site.org, serial="CH-0001", password="pass-0001"
    )
    site.wf.devices.add_meter(OPERATOR, organization=site.org, serial="AG-0001", pin="12345678")
    text = repr(site.wf.history.audit_log(OPERATOR, site.org))
    assert "hash" not in text and "pass-0001" not in text and "12345678" not in text


def test_an_installer_sees_only_their_partners_sites(site: Site) -> None:
    wf = site.wf
    other_installer = Actor(name="x@other.example", role="installer", partner_id=2)
    assert [o["name"] for o in wf.orgs.list(other_installer)] == ["Elsewhere"]
    with pytest.raises(NotFound):
        wf.orgs.show(other_installer, site.org)
    with pytest.raises(NotFound):
        wf.devices.add_charger(
            other_installer, organization=site.org, serial="CH-0001", password="pass-0001"
        )
    owner = Actor(name="owner@solbakken.example", role="org_user", organization_id=site.org)
    assert [o["name"] for o in wf.orgs.list(owner)] == ["Solbakken"]
    from fuseshare.errors import Forbidden

    with pytest.raises(Forbidden):
        wf.devices.add_charger(owner, organization=site.org, serial="CH-0001", password="pass-0001")


def test_charger_ocpp_authentication_outcomes(site: Site) -> None:
    wf = site.wf
    wf.devices.add_charger(OPERATOR, organization=site.org, serial="CH-0001", password="pass-0001")
    assert wf.devices.authenticate_charger("CH-0001", "pass-0001").outcome == "ok"
    wrong = wf.devices.authenticate_charger("CH-0001", "guess")
    assert wrong.outcome == "wrong_password"
    assert wrong.message == "CH-0001 tried to connect with a wrong password"
    assert wf.devices.authenticate_charger("CH-0002", "pass-0002").outcome == "waiting_to_be_added"
    assert wf.devices.authenticate_charger("NOPE-1", "x").outcome == "unknown"


def test_only_admins_create_users(site: Site) -> None:
    from fuseshare.errors import Forbidden

    wf = site.wf
    installer = Actor(name="i@nordlys.example", role="installer", partner_id=1)
    owner = Actor(name="o@solbakken.example", role="org_user", organization_id=site.org)
    for actor in (installer, owner):
        with pytest.raises(Forbidden):
            wf.accounts.create_user(
                actor,
                email="new@x.example",
                name="N",
                password="long-enough-pw",
                role="installer",
                partner=1,
            )
    admin = Actor(name="a@nordlys.example", role="partner_admin", partner_id=1)
    made = wf.accounts.create_user(
        admin,
        email="new@x.example",
        name="N",
        password="long-enough-pw",
        role="installer",
        partner=1,
    )
    assert made["role"] == "installer" and made["partner_id"] == 1
    with pytest.raises(Forbidden):
        wf.accounts.create_user(
            admin,
            email="b@x.example",
            name="B",
            password="long-enough-pw",
            role="installer",
            partner=2,
        )


def test_repeated_wrong_logins_lock_the_account_for_a_while(site: Site) -> None:
    wf = site.wf  # the fixture locks devices after 3 failures; logins after twice that
    wf.accounts.create_user(
        OPERATOR,
        email="ola@nordlys.example",
        name="Ola",
        password="right-password",
        role="installer",
        partner=1,
    )
    assert wf.accounts.authenticate("ola@nordlys.example", "right-password") is not None
    for _ in range(6):
        assert wf.accounts.authenticate("OLA@nordlys.example", "wrong-password") is None
    with pytest.raises(LockedOut) as locked:
        wf.accounts.authenticate("ola@nordlys.example", "right-password")
    assert "too many wrong passwords for ola@nordlys.example" in locked.value.message
    # Unknown e-mails are counted the same way, so probing them gains nothing.
    for _ in range(6):
        assert wf.accounts.authenticate("nobody@nowhere.example", "x") is None
    with pytest.raises(LockedOut):
        wf.accounts.authenticate("nobody@nowhere.example", "x")
