"""Errors that reach the user as one clear message, with no traceback (the CLI catches them)."""


class UserError(Exception):
    """Something the user can fix: the message says what was tried and how to fix it."""


class DatasetNotFoundError(UserError):
    """A dataset's files are not where the loader looked."""


class MalformedDataError(UserError):
    """A dataset file exists but cannot be used as it is (names the file and the fix)."""


class ConfigError(UserError):
    """An option or setting has a value the harness cannot use."""


class UnknownSuiteError(ConfigError):
    """An evaluation suite name that does not exist."""
