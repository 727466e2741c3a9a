import copy

import pytest

from flashsale_load.cost import (
    break_even,
    cost_row,
    cost_table,
    ecs_tasks,
    load_pricing,
    main,
    money,
)


@pytest.fixture
def pricing():
    return load_pricing()


def test_the_pricing_file_names_its_source(pricing):
    assert pricing["source"]["price_list_date"]
    assert pricing["source"]["region"] == "us-east-1"
    assert all(url.startswith("https://aws.amazon.com/") for url in pricing["source"]["urls"])


def test_one_always_on_task(pricing):
    row = cost_row(10_000, pricing)
    assert row.ecs_tasks == 1
    # 0.5 vCPU x $0.04048 + 1 GB x $0.004445, 730 h
    assert row.ecs_compute == pytest.approx(18.02, abs=0.01)
    assert row.lambda_total == 0.0  # inside the free tier
    assert row.savings == pytest.approx(row.ecs_total)


def test_the_seeds_figures(pricing):
    # 512 MB x 3 s: the 400,000 GB-s free tier lasts ~267k orders
    assert cost_row(266_000, pricing).lambda_compute == 0.0
    assert cost_row(268_000, pricing).lambda_compute > 0.0
    # 1M orders without the free tier: $25.00 compute + $0.20 requests (the seed's $25.20)
    assert cost_row(1_000_000, pricing).lambda_no_free_tier == pytest.approx(25.20, abs=0.01)


def test_ecs_adds_tasks_with_volume(pricing):
    # 10 payments of 3 s per task at 50% utilisation: 4.38M orders a month per task
    assert ecs_tasks(4_000_000, pricing) == 1
    assert ecs_tasks(5_000_000, pricing) == 2
    assert cost_row(10_000_000, pricing).ecs_tasks == 3


def test_break_even_is_where_the_totals_cross(pricing):
    even = break_even(pricing)
    assert even is not None and 500_000 < even < 2_000_000
    assert cost_row(even * 0.99, pricing).savings >= 0 > cost_row(even * 1.01, pricing).savings


def test_no_break_even_when_lambda_stays_cheaper(pricing):
    cheap = copy.deepcopy(pricing)
    cheap["lambda"]["gb_second"] = 0.0
    cheap["lambda"]["request_per_million"] = 0.0
    assert break_even(cheap) is None


def test_table_and_money(pricing):
    text = cost_table([cost_row(v, pricing) for v in (10_000, 10_000_000)])
    assert "| 10,000 | 1 | $18.02 | $0.00 | $18.02 (100.0%) |" in text
    assert money(-1.5) == "-$1.50"


def test_main_writes_report_and_chart(tmp_path, capsys):
    assert main(["--out", str(tmp_path)]) == 0
    assert "Break-even (original study): about" in capsys.readouterr().out
    report = (tmp_path / "cost.md").read_text()
    assert "price list of" in report and "](cost.png)" in report
    assert (tmp_path / "cost.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "cost.json").exists()
