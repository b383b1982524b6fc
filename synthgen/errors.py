"""Typed errors for users: each says what was wrong, where, and what would be right."""


class SynthgenError(Exception):
    """Base class of every error synthgen raises on purpose."""


class ConfigError(SynthgenError, ValueError):
    """A config key, value or file is wrong; the message names the key path."""


class AssetError(SynthgenError):
    """An asset file or folder cannot be used; the message names the file."""


class OutputError(SynthgenError):
    """The output folder cannot be written as asked."""


def did_you_mean(name: str, choices) -> str:
    """`` (did you mean 'fog'?)`` when ``name`` is close to one of ``choices``, else ``""``."""
    import difflib

    hint = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1)
    return f" (did you mean {hint[0]!r}?)" if hint else ""
