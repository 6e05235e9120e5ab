"""The conformance suite: specs, reference, harness, reports, CLI and pytest plug-in."""

__version__ = "0.1.0"
