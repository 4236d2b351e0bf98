"""Plans that undo (DESIGN.md §8): rollback to a commit, revert one apply, restore a time.

Each builds an ordinary :class:`~dsgit.plan.model.Plan` (``kind`` ``rollback``, ``revert`` or
``restore``) with the planner's own builder, so undo goes through the same review, approvals,
compare-and-swap apply, pre-images and ledger as any plan:

- :func:`plan_rollback`: the declaration as it was at a commit (git objects, no checkout);
- :func:`plan_revert`: the pre-images of one apply, flagging entries changed since it;
- :func:`plan_restore`: the values current at a time (``@latest:<time>`` reads).

A plan never holds a sensitive plaintext: values under ``sensitive`` or ``encrypted`` pointers
read from pre-images or revisions travel as ``ENC[...]`` tokens sealed with the keyring for
their address and pointer, which apply decrypts just before writing (docs/undo.md).
"""

from __future__ import annotations

from dsgit.undo.restore import RestoreRequest, plan_restore
from dsgit.undo.revert import RevertRequest, find_apply, plan_revert
from dsgit.undo.rollback import plan_rollback

__all__ = [
    "RestoreRequest",
    "RevertRequest",
    "find_apply",
    "plan_restore",
    "plan_revert",
    "plan_rollback",
]
