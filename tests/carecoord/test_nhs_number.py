import pytest
from django.core.exceptions import ValidationError

from carecoord.records.nhs_number import nhs_number_is_valid, validate_nhs_number


@pytest.mark.parametrize(
    "value", ["9434765919", "943 476 5919", "943-476-5919", "4010232137", "4505577104"]
)
def test_valid_nhs_numbers_pass(value):
    assert nhs_number_is_valid(value)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("9434765918", "wrong check digit"),
        ("943476591", "nine digits"),
        ("94347659190", "eleven digits"),
        ("94347659a9", "a letter"),
        ("１２３４５６７８９０", "non-ASCII digits"),
        ("1000000010", "check digit would be 10"),
        ("", "empty"),
    ],
)
def test_invalid_nhs_numbers_fail(value, why):
    assert not nhs_number_is_valid(value), why
    with pytest.raises(ValidationError):
        validate_nhs_number(value)
