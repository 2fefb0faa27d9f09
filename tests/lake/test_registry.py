"""Every table the lake defines is in the one registry (so export, erasure, checks and migrations reach it)."""

from __future__ import annotations

import importlib
import pkgutil

import lake
from lake import registry
from lake.table import TableSpec


def _defined_specs() -> set[str]:
    names = set()
    for module in pkgutil.iter_modules(lake.__path__):
        loaded = importlib.import_module(f"lake.{module.name}")
        names |= {value.name for value in vars(loaded).values() if isinstance(value, TableSpec)}
    return names


def test_every_table_spec_is_registered():
    defined = _defined_specs()
    assert len(defined) >= 25
    assert defined == {spec.name for spec in registry.ALL}


def test_each_table_is_in_exactly_one_group():
    names = [spec.name for spec in registry.ALL]
    assert len(names) == len(set(names))
    assert registry.ALL == registry.PRIVATE + registry.PUBLIC + registry.SYSTEM
    assert registry.SYSTEM  # the migrations log at least


def test_private_tables_carry_athlete_id_public_ones_the_handle_and_system_ones_neither():
    for spec in registry.PRIVATE:
        assert "athlete_id" in spec.schema.names(), spec.name
    for spec in registry.PUBLIC:
        assert "athlete_id" not in spec.schema.names(), spec.name
        assert spec.schema.names()[0] == "athlete", spec.name
    for spec in registry.SYSTEM:
        assert not {"athlete_id", "athlete"} & set(spec.schema.names()), spec.name
