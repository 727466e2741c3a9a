from flashsale_load.bench.acceptance import IntakeFigures, Step, saturated, sustained


def step(users, rps, p99, failures=0, requests=1000):
    return Step(users, requests, failures, rps, p99 / 2, p99)


def test_sustained_is_the_fastest_step_under_the_limit():
    steps = [step(1, 300, 5), step(4, 900, 20), step(16, 1400, 48), step(32, 1500, 80)]
    assert sustained(steps, 50).users == 16


def test_a_step_with_failures_does_not_count():
    steps = [step(1, 300, 5), step(4, 900, 20, failures=50)]
    assert sustained(steps, 50).users == 1


def test_no_step_under_the_limit():
    assert sustained([step(1, 100, 60)], 50) is None
    assert sustained([], 50) is None
    assert not Step(1, 0, 0, 0.0, None, None).within(50)


def test_stepping_goes_on_past_the_limit_until_saturated():
    assert not saturated(step(1, 30, 97), 50)  # over the limit: noise at one user
    assert saturated(step(32, 900, 201), 50)
    assert saturated(step(8, 900, 40, failures=5), 50)


def test_intake_figures_per_accepted_order():
    figures = IntakeFigures(
        orders=120, writes=30, max_batch=9, dynamodb_calls=36, transact_writes=31
    )
    assert figures.mean_batch == 4.0
    assert figures.calls_per_order == 0.3
    line = figures.line("coalescing on")
    assert "batch mean 4.00 max 9" in line and "per order 0.30" in line


def test_intake_figures_not_measured_print_na():
    figures = IntakeFigures(
        orders=0, writes=0, max_batch=None, dynamodb_calls=None, transact_writes=None
    )
    assert figures.mean_batch is None and figures.calls_per_order is None
    assert figures.line("x").count("n/a") == 4
