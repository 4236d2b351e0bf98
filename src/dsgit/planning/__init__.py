"""Making plans at the edge: read live state through the Open Cloud ports, load what the
declaration needs (decryption, schemas, the ledger), then call the pure core in
:mod:`dsgit.plan`. Nothing here is imported by the core."""
