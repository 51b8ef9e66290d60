"""Small CSVs without quotes are split in Python (core.tables._simple_csv); what read_raw
returns must not depend on it: the same frame as pandas' C parser, or pandas reads it."""

from __future__ import annotations

import random

import pandas as pd
import pytest

import core.tables as tables
from core.errors import InputError

TEXTS = [
    "site_id,kind\nS1,hub\nS2, shop \n",
    "site_id;kind;name\nS1;hub;Épicerie\n\nS2;shop;\n",  # a blank line is skipped
    "a\tb\n1,5\t 1 234,5\n",
    "a,b\n",  # header only
    "a,b\n1,2",  # no final newline
    "a , b\n=1+2,NA\nnan,\u00a0x\u202f\n",
    "a,b\n1,2,3\n",  # ragged: pandas' rules
    "a,b\n1\n",
    "a,a\n1,2\n",  # duplicate names: pandas' a.1
    "a,,b\n1,2,3\n",  # unnamed column
    'a,b\n"1,5",2\n',  # quotes
    "a,b\r\n1,2\r\n",
    "a,b\n  \n1,2\n",  # a blank-looking line
    "\n\na,b\n1,2\n",
    "a,b\n\x0b,\x1c\n\u2028,\x1a\n",
]


def _both(path):
    def read(fast: bool):
        try:
            return tables.read_raw(path)
        except InputError as exc:
            return [str(e) for e in exc.errors]

    fast = read(True)
    original = tables._simple_csv
    tables._simple_csv = lambda text, sep: None
    try:
        slow = read(False)
    finally:
        tables._simple_csv = original
    return fast, slow


def _same(fast, slow):
    assert type(fast) is type(slow)
    if isinstance(fast, pd.DataFrame):
        pd.testing.assert_frame_equal(fast, slow, check_exact=True, check_column_type=True)
        assert list(fast.dtypes) == list(slow.dtypes)
    else:
        assert fast == slow


@pytest.mark.parametrize("text", TEXTS)
def test_the_quick_split_reads_as_pandas(tmp_path, text):
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    _same(*_both(path))


def test_the_quick_split_is_taken_for_plain_tables_only():
    assert tables._simple_csv("a;b\n1;2\n\n3;4\n", ";") is not None
    for text in ('a,b\n"x",2\n', "a,b\r\n1,2\r\n", "a,b\n1,2,3\n", "a,a\n1,2\n", "a,b\n \n"):
        assert tables._simple_csv(text, ",") is None


def test_random_tables_read_the_same_either_way(tmp_path):
    rng = random.Random(11)
    cells = ["carotte", " œufs ", "1,5", "31/12/2025", "", " ", "NA", "=1+2", "x\u00a0", "é"]
    for i in range(200):
        sep = rng.choice([",", ";", "\t"])
        names = rng.sample(["site_id", "kind", "name", " kg ", "é"], rng.randint(1, 5))
        lines = [sep.join(names)]
        for _ in range(rng.randint(0, 8)):
            width = len(names) + (rng.choice([-1, 1]) if rng.random() < 0.05 else 0)
            lines.append("" if rng.random() < 0.05 else sep.join(rng.choices(cells, k=width)))
        path = tmp_path / f"t{i}.csv"
        path.write_text("\n".join(lines) + "\n", encoding=rng.choice(["utf-8", "utf-8-sig"]))
        _same(*_both(path))
