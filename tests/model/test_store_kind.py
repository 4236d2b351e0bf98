"""Kind names are open (a kind module defines its own) and interned; addresses fit every kind."""

from __future__ import annotations

import copy
import pickle

import pytest

from dsgit.model.entry import Address, StoreKind


def test_kind_names_are_interned_and_looked_up_by_name() -> None:
    assert StoreKind("ordered") is StoreKind.ORDERED
    assert StoreKind.define("standard") is StoreKind.STANDARD
    assert StoreKind.ORDERED.value == "ordered" and StoreKind.ORDERED == "ordered"
    assert pickle.loads(pickle.dumps(StoreKind.ORDERED)) is StoreKind.ORDERED
    assert copy.deepcopy(Address.ordered("W", "k")).kind is StoreKind.ORDERED
    with pytest.raises(ValueError, match="not a resource kind"):
        StoreKind("bogus")
    with pytest.raises(ValueError, match="cannot name"):
        StoreKind.define("Not A Name")


def test_an_unscoped_kind_has_two_part_addresses() -> None:
    configs = StoreKind.define("configs")
    key = Address(configs, "InExperienceConfig", "", "Shop/Price")
    assert str(key) == "configs:InExperienceConfig/Shop%2FPrice"
    assert Address.parse(str(key)) == key
    assert str(Address.ordered("Wins", "alice")) == "ordered:Wins/global/alice"
    assert Address.parse("Config/global/Shop") == Address.standard("Config", "Shop")
    with pytest.raises(ValueError, match="store/scope/key"):
        Address.parse("a/b/c/d")
