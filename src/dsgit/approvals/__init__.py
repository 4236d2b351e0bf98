"""Approvals at the edges: approver keys, signed approval documents and their text block form,
the approvals policy file, the sources approvals are read from (files beside a plan, GitHub
reviews), and the use case that evaluates them with :func:`dsgit.policy.evaluate`."""

from __future__ import annotations
