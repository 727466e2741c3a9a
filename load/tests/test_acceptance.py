from flashsale_load.bench.acceptance import Step, sustained


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
