"""Errors of encrypted values. None of them ever carries a plaintext value or key material."""

from __future__ import annotations

from dsgit.errors import ConfigError, Location

__all__ = [
    "DecryptionFailed",
    "EncryptionError",
    "KeyFileError",
    "KeyNotAvailable",
    "MalformedToken",
]


class EncryptionError(ConfigError):
    """Base of every encryption problem: names the entry address and JSON pointer when known.

    ``location`` adds the file (and line) when the caller knows it; the pointer becomes its
    ``field``. The message is built only from addresses, pointers, key ids and file names.
    """

    def __init__(
        self,
        message: str,
        *,
        address: str | None = None,
        pointer: str | None = None,
        location: Location | None = None,
    ) -> None:
        self.address = address
        self.pointer = pointer
        self.reason = message
        text = message
        if address is not None:
            where = f"{address}#{pointer}" if pointer is not None else address
            text = f"{where}: {message}"
        super().__init__(text, location)

    def at(self, location: Location) -> EncryptionError:
        """The same error, placed in a file (the pointer stays the field)."""
        if location.field is None and self.pointer is not None:
            location = Location(location.file, location.line, location.column, self.pointer)
        return type(self)(
            self.reason, address=self.address, pointer=self.pointer, location=location
        )


class MalformedToken(EncryptionError):
    """A value starts like ``ENC[...]`` but is not a well-formed token."""


class DecryptionFailed(EncryptionError):
    """Authentication failed: wrong key, or data/iv/tag/type edited, or the token was moved."""


class KeyNotAvailable(EncryptionError):
    """No key to encrypt with, or no key with the id a token names."""


class KeyFileError(EncryptionError):
    """A key file is missing, malformed, or unsafe (inside the repository and tracked by git)."""
