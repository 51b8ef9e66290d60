"""Scenario files: no YAML anchors/aliases (billion laughs), a size cap, short error values."""

from __future__ import annotations

import time

import pytest

from api.cli import main
from core.errors import InputError
from planner.scenario import MAX_SCENARIO_BYTES, load_scenario

BOMB = (
    "\n".join(
        ["name: lol", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol"]']
        + [
            f"{c}: &{c} [{','.join([f'*{p}'] * 9)}]"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        ]
        + ["changes: [*i]"]
    )
    + "\n"
)


def test_alias_bomb_is_refused_at_once(tmp_path):
    path = tmp_path / "lol.yaml"
    path.write_text(BOMB)
    started = time.perf_counter()
    with pytest.raises(InputError, match="anchors and aliases") as info:
        load_scenario(path)
    assert time.perf_counter() - started < 1
    assert info.value.errors[0].file == "lol.yaml" and info.value.errors[0].row == 2


def test_a_single_anchor_is_refused_too(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: &n x\nchanges: []\n")
    with pytest.raises(InputError, match="anchors and aliases"):
        load_scenario(path)


def test_oversized_scenario_file_is_refused(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("name: x\n# " + "x" * MAX_SCENARIO_BYTES + "\nchanges: []\n")
    with pytest.raises(InputError, match="at most 100,000"):
        load_scenario(path)


def test_huge_invalid_value_is_cut_in_the_message(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: x\nchanges:\n  - demand: {factor: [" + ",".join(["1"] * 5000) + "]}\n")
    with pytest.raises(InputError) as info:
        load_scenario(path)
    assert len(str(info.value)) < 400


def test_cli_exits_2_on_an_alias_bomb(tmp_path, capsys):
    path = tmp_path / "lol.yaml"
    path.write_text(BOMB)
    assert main(["plan", "--scenario", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "anchors and aliases" in capsys.readouterr().err
