"""Headless ``claude -p`` results as a source of measured usage."""

from pytest_orchphase.usage.sources.headless.source import HeadlessSource

SOURCE = HeadlessSource()
