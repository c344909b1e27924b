"""The metric registry: named formulas over a phase or a ticket, with unit and words."""
