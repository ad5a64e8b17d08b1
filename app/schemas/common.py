"""Building blocks shared by every request model: strict by default.

* unknown fields are refused (``extra='forbid'``), so a typo is an error and not a silently ignored option;
* integers refuse booleans, strings and fractions (``Integer``) but take 2.0 as 2, as JSON Schema's "integer" does
  (a client cannot always tell 2 from 2.0: NumPy's floats, Python's json); floats refuse booleans and strings but
  take integers;
* floats must be finite (JSON has no NaN, but Python's json module accepts ``NaN`` and ``Infinity``);
* every list and string has an upper bound, so validation itself is bounded; the server's configured limits
  (app.services.limits) are checked after validation and are usually much tighter.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictFloat, StrictInt

#: Absolute caps that keep validation bounded whatever the configured limits are.
MAX_LIST = 100_000
MAX_TEXT = 100_000


def _integral(value: object) -> object:
    """A float with no fractional part as the int it equals; anything else is left for StrictInt to judge."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: Goes last in an Annotated integer, after its bounds: in front of them it would hide them from the JSON schema.
WHOLE = BeforeValidator(_integral)
Integer = Annotated[StrictInt, WHOLE]
FiniteFloat = Annotated[StrictFloat, Field(allow_inf_nan=False)]
Count = Annotated[StrictInt, Field(ge=1, le=MAX_LIST), WHOLE]
#: The largest integer a JSON number holds exactly (2^53 - 1): a bound of 2^63 - 1 came out of the schema as the
#: float 9.223372036854776e+18, which lets 2^63 look valid to a client that checks against the schema.
MAX_EXACT_INT = 2**53 - 1
NonNegative = Annotated[StrictInt, Field(ge=0, le=MAX_EXACT_INT), WHOLE]
Vector = Annotated[list[FiniteFloat], Field(min_length=1, max_length=MAX_LIST)]
Matrix = Annotated[list[Vector], Field(min_length=1, max_length=MAX_LIST)]
#: Significant digits in a reply. 17 identify every float64 (app.wire.rounding), so more would add nothing; a
#: server may allow fewer (GET /api/v1/limits: max_precision, 17 unless UNROLLED_MAX_PRECISION lowers it).
MAX_PRECISION = 17
Precision = Annotated[
    StrictInt,
    Field(
        ge=1,
        le=MAX_PRECISION,
        description="significant digits of every number in the reply (17: each float64 exactly as computed); "
        "at most GET /api/v1/limits max_precision",
    ),
    WHOLE,
]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
