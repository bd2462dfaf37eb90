"""benchmarks/headline.py runs end to end (a tiny cap: every method stops short of the bar) and says so."""
from benchmarks import headline


def test_the_headline_table_names_every_method_and_what_was_not_reached(capsys):
    headline.main(["--cap", "0.2", "--needed", "0.9"])
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert [r.split(" | ")[0] for r in rows] == ["| EnergyLab's defaults (G(z), refined, resampled)",
                                                 "| Langevin, 20 steps", "| Langevin, 60 steps"]
    assert "bar: 8 / 8 modes and 90% high quality" in out
    # 0.2 CPU seconds of training reach no bar: the table says so rather than a ratio
    assert all("not reached" in r for r in rows) and "did not reach it" in out and "target <= 0.33" not in out
