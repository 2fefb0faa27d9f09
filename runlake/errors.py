"""User-facing errors: what the CLI prints as one line (no traceback) before a non-zero exit."""


class RunlakeError(Exception):
    """A run that cannot proceed for a reason the user can fix (bad path, bad setting, …)."""


class LakeChangedError(RunlakeError):
    """Another writer committed while a whole-table rewrite was computing from an older snapshot."""


class SettingsError(RunlakeError):
    """RUNLAKE_* settings that cannot be used; the message names each setting and its rule, never
    its value (privacy zones and secrets must not reach a terminal, a log or a flow state)."""
