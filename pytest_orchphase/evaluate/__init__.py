"""Criterion + metrics → verdict; declared totals recomputed; one run's evaluation."""
