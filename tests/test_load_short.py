"""A short run of the load scenario of bench/load_bench.py (`testkit.load`): 4 concurrent API users for 10 s with a rebuild in the middle.

No timing assertions (the machine is shared); only correctness under load: no failed request,
every citation exact, the rebuild succeeds and its new document is answerable afterwards.
"""
from __future__ import annotations

import pytest

from testkit import load as load_bench

pytestmark = pytest.mark.slow


def test_four_users_ten_seconds_with_a_rebuild(tmp_path):
    s = load_bench.run(users=4, duration=10, squad_files=1, workdir=tmp_path, quiet=True)
    print(s)
    assert s["errors"] == 0, s["error_samples"]
    assert s["requests"] >= 4 and s["ok"] == s["requests"]
    assert s["bad_citations"] == 0
    assert s["rebuild_error"] is None and "Index updated" in s["rebuild_status"], s
    assert "1 added" in s["rebuild_status"], s["rebuild_status"]
    assert s["new_file_answered"], s
    assert s["abstained"] < s["ok"], "every question abstained"
