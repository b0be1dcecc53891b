"""Simulators: virtual chargers (real OCPP clients), and more to come."""
