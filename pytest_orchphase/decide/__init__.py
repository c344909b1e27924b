"""The decisions a team takes after a phase: proceed, adopt a model, the next strategy."""
