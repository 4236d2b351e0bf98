from __future__ import annotations

import dsgit.crypto
import dsgit.importer


def test_public_names_exist() -> None:
    for module in (dsgit.crypto, dsgit.importer):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"
        assert sorted(module.__all__) == sorted(set(module.__all__))
