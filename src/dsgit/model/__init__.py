"""Pure value types shared by every layer: addresses, entries, JSON values. No I/O here."""
