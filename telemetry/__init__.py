"""The telemetry contract: canonical keys, aliases, detectors, and the metric catalog."""
