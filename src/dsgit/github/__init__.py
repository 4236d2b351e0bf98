"""GitHub: a small REST client and the approval sources built on it (pull-request reviews)."""

from __future__ import annotations
