"""The invariants `runlake lake check` verifies, one module per family (pipeline/lake_check.py runs
them; docs/reliability.md says what each violation means and what to do). Every check only reads."""
