import numpy as np

from labkit.data import load_digits
from labkit.teaching.exercises.start import check_class_count

DIGITS = load_digits(seed=0)


def test_right_answer_passes():
    fb = check_class_count(DIGITS, 3, np.sum(DIGITS.y_test == 3))
    assert fb.ok and "digit 3" in fb.message


def test_specific_hints():
    assert "None" in check_class_count(DIGITS, 3, None).message
    assert "y_train" in check_class_count(DIGITS, 3, np.sum(DIGITS.y_train == 3)).message
    assert "whole test set" in check_class_count(DIGITS, 3, len(DIGITS.y_test)).message
    assert "array" in check_class_count(DIGITS, 3, DIGITS.y_test == 3).message
    wrong = check_class_count(DIGITS, 3, 1)
    assert not wrong and "sum" in wrong.message


def test_division_prediction():
    import pytest

    from labkit.teaching.exercises.start import check_division_prediction

    assert check_division_prediction("float64").ok
    assert "integer division" in check_division_prediction("int32").message
    assert "not float32" in check_division_prediction("float32").message
    assert "dtype_prediction" in check_division_prediction(None).message
    with pytest.raises(ValueError, match="prediction"):
        check_division_prediction("float16")
