"""LanguageSchedule: parsing, values, integrals and errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hf_clonelang import ConfigError
from hf_clonelang.training.schedules import LanguageSchedule

S = LanguageSchedule.from_string


def _integral(schedule, n=200_001):
    x = np.linspace(0, 1, n)
    return np.trapezoid(schedule(x), x, axis=0)


def test_constant():
    s = S("0.9,0.1", 2)
    assert s.is_constant and s.num_languages == 2
    assert np.allclose(s(0.0), [0.9, 0.1]) and np.allclose(s(np.array([0.3, 1.0])), [[0.9, 0.1]] * 2)
    assert np.allclose(s.expected_shares(), [0.9, 0.1])
    assert np.allclose(S("uniform", 4)(0.5), [0.25] * 4)


def test_equal_stages_in_the_papers_notation():
    s = S("0.1_0.9", 2)
    assert not s.is_constant
    assert np.allclose(s(0.0), [0.9, 0.1]) and np.allclose(s(0.49), [0.9, 0.1])
    assert np.allclose(s(0.5), [0.1, 0.9]) and np.allclose(s(1.0), [0.1, 0.9])
    assert np.allclose(s.expected_shares(), [0.5, 0.5])
    four = S("0.1_0.9_0.5_0.5", 2)
    assert np.allclose(four(np.array([0.1, 0.3, 0.6, 0.9]))[:, 1], [0.1, 0.9, 0.5, 0.5])
    assert np.allclose(four.expected_shares(), [0.5, 0.5])


def test_vector_stages_for_n_languages():
    s = S("0.8,0.1,0.1_0.1,0.1,0.8", 3)
    assert np.allclose(s(0.2), [0.8, 0.1, 0.1]) and np.allclose(s(0.7), [0.1, 0.1, 0.8])
    assert np.allclose(s.expected_shares(), [0.45, 0.1, 0.45])


def test_linear_and_cosine_interpolation():
    lin = S("linear:0.1@0_0.5@1", 2)
    assert np.allclose(lin(0.5), [0.7, 0.3]) and np.allclose(lin(0.25), [0.8, 0.2])
    cos = S("cosine:0.9,0.1@0_0.5,0.5@1", 2)
    assert np.allclose(cos(0.25)[1], 0.1 + 0.4 * (1 - np.cos(np.pi / 4)) / 2)
    assert np.allclose(cos(0.5), [0.7, 0.3])
    three = S("linear:0.1@0_0.9@0.25_0.3@1", 2)
    assert np.allclose(three(0.25)[1], 0.9) and np.allclose(three(0.625)[1], 0.6)
    for s in (lin, cos, three):
        assert np.allclose(s.expected_shares(), _integral(s), atol=1e-6)


def test_papers_n_language_form_and_temperature():
    s = S("l1:0.5", 10)
    assert np.allclose(s(0.3), [0.5] + [0.5 / 9] * 9)
    staged = S("l1:0.9_0.5", 3)
    assert np.allclose(staged(0.1), [0.9, 0.05, 0.05]) and np.allclose(staged(0.9), [0.5, 0.25, 0.25])
    t = S("temperature:0.5", 2, sizes=[900, 100])
    assert np.allclose(t(0.0), np.array([30, 10]) / 40)
    assert np.allclose(S("temperature:1:3,1", 2)(0.5), [0.75, 0.25])
    assert np.allclose(S("temperature:0.3:5,0,5", 3)(0.5), [0.5, 0.0, 0.5])


@settings(max_examples=50, deadline=None)
@given(
    n=st.integers(2, 5),
    stages=st.integers(1, 5),
    kind=st.sampled_from(["stages", "linear", "cosine"]),
    data=st.data(),
)
def test_every_schedule_is_a_distribution_and_integrates_right(n, stages, kind, data):
    vectors = []
    for _ in range(stages + (kind != "stages")):
        w = np.array(data.draw(st.lists(st.integers(0, 20), min_size=n, max_size=n)), dtype=float) + 1e-3
        vectors.append(",".join(f"{v:.6f}" for v in w / w.sum()))
    if kind == "stages":
        text = "_".join(vectors)
    else:
        positions = np.linspace(0, 1, len(vectors))
        text = f"{kind}:" + "_".join(f"{v}@{p:.6f}" for v, p in zip(vectors, positions, strict=True))
    s = S(text, n)
    values = s(np.linspace(0, 1, 1001))
    assert np.all(values >= -1e-9) and np.allclose(values.sum(axis=1), 1)
    assert np.allclose(s.expected_shares(), _integral(s), atol=2e-3 if kind == "stages" else 1e-5)


@pytest.mark.parametrize(
    ("text", "n", "message"),
    [
        ("0.1_x", 2, "stage 2 value 'x' is not a number"),
        ("0.2,0.3,0.5", 2, "stage 1 '0.2,0.3,0.5' has 3 probabilities for 2 languages"),
        ("0.5,0.6", 2, "stage 1 '0.5,0.6' sums to 1.1, not 1"),
        ("1.2", 2, r"probability 1.2, outside \[0, 1\]"),
        ("1.2,-0.2", 2, r"probability 1.2, outside \[0, 1\]"),
        ("0.1_0.9", 3, "is one number, which means p\\(L2\\) and needs 2 languages"),
        ("0.1__0.9", 2, "part 2 is empty"),
        ("linear:0.1_0.5@1", 2, "point 1 '0.1' has no '@position'"),
        ("linear:0.1@0.2_0.5@1", 2, "the first point must be @0 and the last @1"),
        ("linear:0.1@0_0.3@0.7_0.5@0.5_0.2@1", 2, "must increase"),
        ("sigmoid:0.1@0_0.5@1", 2, "unknown kind 'sigmoid'"),
        ("l1:1.5", 3, r"outside \[0, 1\]"),
        ("temperature:0.3", 2, "needs the data size of each language"),
        ("temperature:-1:1,2", 2, "exponent -1 must be > 0"),
        ("temperature:0.5:1,2,3", 2, "must be 2 non-negative numbers"),
        ("", 2, "is empty"),
    ],
)
def test_errors_name_the_bad_part(text, n, message):
    with pytest.raises(ConfigError, match=message):
        S(text, n)
