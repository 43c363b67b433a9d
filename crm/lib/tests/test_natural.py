"""Natural order of unit and building labels."""

from __future__ import annotations

from crm.lib.natural import natural_key


def test_units_and_buildings_sort_as_people_count_them():
    labels = ["1号楼-1303", "10号楼-101", "1号楼-704", "2号楼-2001", "1号楼-0705", "A座-3", "B座-12"]
    assert sorted(labels, key=natural_key) == [
        "1号楼-704",
        "1号楼-0705",
        "1号楼-1303",
        "2号楼-2001",
        "10号楼-101",
        "A座-3",
        "B座-12",
    ]


def test_numbers_and_words_in_the_same_place_compare():
    assert sorted(["商铺", "101", "A"], key=natural_key) == ["101", "A", "商铺"]
