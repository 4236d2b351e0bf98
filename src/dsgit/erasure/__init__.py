"""Right to erasure (docs/erasure.md): the policy file, ``dsgit erase``, and the webhook."""
