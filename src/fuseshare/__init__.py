"""fuseshare: share a building main fuse between EV chargers, safely and fairly."""

__version__ = "0.1.0"
