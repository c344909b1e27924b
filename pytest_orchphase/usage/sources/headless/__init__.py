"""Headless ``claude -p`` results as a source of measured usage."""
