"""Bridge from a stored group to the balancing core's pure commissioning checks."""

from __future__ import annotations

from fuseshare.balancing import Membership, check_group
from fuseshare.balancing.topology import parse_wiring
from fuseshare.control.spec import spec_of
from fuseshare.errors import Finding
from fuseshare.store.tables import LoadBalancingGroup


def pure_findings(g: LoadBalancingGroup) -> list[Finding]:
    """The balancing core's findings for this group, in the workflow's vocabulary."""
    config = spec_of(g).config
    members = [
        Membership(
            charger_id=m.charger.serial,
            wiring=parse_wiring(m.phases),
            failsafe_current_a=m.failsafe_current_a,
            max_current_a=min(m.charger.max_current_a, m.max_current_a or m.charger.max_current_a),
        )
        for m in g.memberships
    ]
    return [
        Finding(f.severity, f.code, f.message, charger=f.charger_id)
        for f in check_group(config, members)
    ]
