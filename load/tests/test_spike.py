from flashsale_load.config import SpikeProfile


def test_spike_is_quiet_then_jumps_holds_and_drops():
    profile = SpikeProfile(base_users=5, peak_users=305, quiet_s=10, ramp_s=3, hold_s=20, cool_s=5)
    assert profile.at(0) == (5, 5.0)
    assert profile.at(9.9) == (5, 5.0)
    users, rate = profile.at(10.0)
    assert users == 305 and rate == 100.0  # 300 more users within 3 s
    assert profile.at(32.9)[0] == 305
    assert profile.at(33.0) == (5, 100.0)
    assert profile.at(38.0) is None  # the shape ends the run
    assert profile.duration_s == 38.0


def test_spike_profile_from_environment():
    profile = SpikeProfile.from_env({"SPIKE_PEAK_USERS": "2", "SPIKE_HOLD_S": "1.5"})
    assert profile.peak_users == 2 and profile.hold_s == 1.5
    assert profile.base_users == SpikeProfile().base_users
