"""NHS number validation: ten digits whose last is a modulus-11 check digit."""

from django.core.exceptions import ValidationError

_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def nhs_number_normalise(value: str) -> str:
    """Drop the spaces and dashes people type (e.g. '943 476 5919')."""
    return "".join(ch for ch in value if ch not in " -")


def nhs_number_is_valid(value: str) -> bool:
    digits = nhs_number_normalise(value)
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], _WEIGHTS, strict=True))
    check = 11 - (total % 11)
    if check == 11:
        check = 0
    # A remainder giving 10 means no number was ever issued with those first nine digits.
    return check != 10 and check == int(digits[9])


def validate_nhs_number(value: str) -> None:
    if not nhs_number_is_valid(value):
        raise ValidationError(
            "Enter a valid NHS number: 10 digits, like 943 476 5919. "
            "You can find it on a letter from the NHS or in the NHS App.",
            code="invalid_nhs_number",
        )


def nhs_number_display(value: str) -> str:
    """An NHS number as people read it: 943 476 5919 (3-3-4). Anything else as it is."""
    digits = nhs_number_normalise(value or "")
    if len(digits) != 10 or not digits.isdigit():
        return value or ""
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
