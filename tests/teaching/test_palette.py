import pytest

from labkit.teaching.palette import OPTIMIZER_COLORS, OPTIMIZER_NAMES, color_for


def test_ten_distinct_colours_one_per_optimizer():
    assert len(OPTIMIZER_NAMES) == 10 and len(set(OPTIMIZER_COLORS.values())) == 10


@pytest.mark.parametrize("alias", ["AdamOptimizer", "Adam", "adam", "runs/adam"])
def test_aliases_share_a_colour(alias):
    assert color_for(alias) == OPTIMIZER_COLORS["AdamOptimizer"]


def test_other_names_are_stable():
    assert color_for("stage-1") == color_for("stage-1")
    with pytest.raises(ValueError, match="name=''"):
        color_for("")


def test_keras_classes_share_their_tf1_colour_and_newer_ones_have_their_own():
    from labkit.teaching.palette import KERAS_COLORS

    assert color_for("keras.Adam") == OPTIMIZER_COLORS["AdamOptimizer"]
    assert color_for("keras.RMSprop") == OPTIMIZER_COLORS["RMSPropOptimizer"]
    assert color_for("keras.SGD") == OPTIMIZER_COLORS["GradientDescentOptimizer"]
    new = [color_for(f"keras.{n}") for n in ("Nadam", "Adamax", "AdamW", "Lion")]
    assert len(set(new)) == 4 and not set(new) & set(OPTIMIZER_COLORS.values())
    assert set(new) <= set(KERAS_COLORS.values())
