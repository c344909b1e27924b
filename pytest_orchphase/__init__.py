"""pytest-orchphase: executable success criteria for orchestrated agent phases."""

__version__ = "0.1.0"
