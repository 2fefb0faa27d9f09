"""User-facing errors: what the CLI prints as one line (no traceback) before a non-zero exit."""


class RunlakeError(Exception):
    """A run that cannot proceed for a reason the user can fix (bad path, bad setting, …)."""


class LakeChangedError(RunlakeError):
    """Another writer committed while a whole-table rewrite was computing from an older snapshot."""
