"""Model bases: strict (no coercion), closed (unknown fields rejected), frozen
(a validated model stays valid: ``model_copy(update=...)`` validates the changed
copy) and,
for the spec's ``Map{1..*}`` / ``Record{1..*}`` types, non-empty.

Optional fields are written ``name: Opt[X] = None``: the type checker sees
``X | None``; JSON ``null`` is refused (LS v2.0 section 3.1.5: an absent
optional field is omitted, never null) before ``X`` is tried, with ``X``'s own
"expected ..." message.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Self, TypeVar

from pydantic import BaseModel, GetCoreSchemaHandler, model_validator
from pydantic_core import CoreSchema, PydanticCustomError


class NotNull:
    """The one null check of every optional field: the field's schema is ``X`` alone,
    so ``null`` fails like any other non-``X`` value (in pydantic-core, no Python
    call per field), while the default ``None`` (field absent) is never validated."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        schema = handler(source)
        if schema["type"] != "nullable":
            raise TypeError(f"Opt[...] expects an optional type, got {source!r}")
        inner: CoreSchema = schema["schema"]
        return inner


T = TypeVar("T")
#: An optional field: ``X`` when present, ``None`` when absent, never JSON null.
Opt = Annotated[T | None, NotNull()]  # pylint: disable=unsupported-binary-operation  # runtime union: the app needs Python 3.11 (python_requires); the SDK's pylintrc assumes py-version 3.6


class StrictModel(BaseModel, strict=True, extra="forbid", populate_by_name=True, frozen=True):
    """A closed OpenC2 structure. The configuration is given as class keywords so the
    type checker sees ``frozen`` too; a Map the spec lets profiles extend is declared
    ``class X(StrictModel, extra="allow")``."""

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """Copy-on-change that stays valid: with ``update``, the changed copy is validated
        like a new document (rules included for commands, responses and messages) and
        OpenC2ValidationError says what the change broke."""
        if not update:
            return super().model_copy(deep=deep)
        from .validate import revalidate  # validate imports the models

        data = self.model_dump(exclude_unset=True)
        data.update(update)
        return revalidate(type(self), data)


class NonEmptyModel(StrictModel):
    """A structure whose fields are all optional but at least one is required."""

    type_name: ClassVar[str] = "object"

    @model_validator(mode="after")
    def _at_least_one(self) -> NonEmptyModel:
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
    def _exactly_one(self) -> ChoiceModel:
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
