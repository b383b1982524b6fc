"""Typed errors for users: each says what was wrong, where, and what would be right."""


class SynthgenError(Exception):
    """Base class of every error synthgen raises on purpose."""


class ConfigError(SynthgenError, ValueError):
    """A config key, value or file is wrong; the message names the key path."""


class AssetError(SynthgenError):
    """An asset file or folder cannot be used; the message names the file."""


class OutputError(SynthgenError):
    """The output folder cannot be written as asked."""
