"""Model bases: strict (no coercion), closed (unknown fields rejected) and,
for the spec's ``Map{1..*}`` / ``Record{1..*}`` types, non-empty.
"""
from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

STRICT = ConfigDict(strict=True, extra="forbid", populate_by_name=True, frozen=False)
OPEN = ConfigDict(strict=True, extra="allow", populate_by_name=True, frozen=False)


class StrictModel(BaseModel):
    """A closed OpenC2 structure."""

    model_config = STRICT


class NonEmptyModel(StrictModel):
    """A structure whose fields are all optional but at least one is required."""

    type_name: ClassVar[str] = "object"

    @model_validator(mode="after")
    def _at_least_one(self) -> "NonEmptyModel":
        if not self.__pydantic_fields_set__ and not self.__pydantic_extra__:
            raise PydanticCustomError(
                "openc2_empty",
                "expected at least one property in {name} ({fields})",
                {"name": self.type_name, "fields": ", ".join(type(self).model_fields)},
            )
        return self


class ChoiceModel(StrictModel):
    """A Choice: a JSON object with exactly one member."""

    type_name: ClassVar[str] = "object"

    @model_validator(mode="after")
    def _exactly_one(self) -> "ChoiceModel":
        if len(self.__pydantic_fields_set__) != 1:
            raise PydanticCustomError(
                "openc2_choice",
                "expected exactly one of {fields} in {name}, got {count}",
                {
                    "name": self.type_name,
                    "fields": ", ".join(type(self).model_fields),
                    "count": len(self.__pydantic_fields_set__),
                },
            )
        return self
