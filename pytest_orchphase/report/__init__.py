"""What a team reads after a phase run: terminal summary (and, later, JSON and markdown)."""
