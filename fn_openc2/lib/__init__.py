"""Plain-Python OpenC2 layers. Nothing below this package imports SOAR code,
except ``soar`` (which talks to the SOAR REST API but not to resilient-circuits)."""
