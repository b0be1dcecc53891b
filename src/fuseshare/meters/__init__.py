"""Power meters: Amp Guard over MQTT, Modbus TCP, HTTP push, a simulated Amp Guard.

Every adapter turns what it receives into a :class:`~fuseshare.meters.reading.Reading`
and submits it to the :class:`~fuseshare.meters.hub.MeterHub`, which checks
plausibility and freshness and is what the control loop reads.
"""

from fuseshare.meters.freshness import MeterState, staleness_window_s
from fuseshare.meters.hub import MeterEvent, MeterHub, MeterSettings, MeterStatus, MeterView
from fuseshare.meters.plausibility import PlausibilityLimits
from fuseshare.meters.ports import (
    AuthResult,
    Clock,
    MeterCredentials,
    MeterReadings,
    MeterSource,
    ReadingRecorder,
    ReadingSink,
)
from fuseshare.meters.reading import Finding, Reading, Rejection, Verdict

__all__ = [
    "AuthResult",
    "Clock",
    "Finding",
    "MeterCredentials",
    "MeterEvent",
    "MeterHub",
    "MeterReadings",
    "MeterSettings",
    "MeterSource",
    "MeterState",
    "MeterStatus",
    "MeterView",
    "PlausibilityLimits",
    "Reading",
    "ReadingRecorder",
    "ReadingSink",
    "Rejection",
    "Verdict",
    "staleness_window_s",
]
