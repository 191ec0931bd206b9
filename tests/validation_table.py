"""The three tests every table of invalid arguments gets.

A test module lists, for each public function, its valid keyword arguments and the invalid
values it must reject (with the exact message), then writes (``module`` may be a list of modules whose ``__all__`` the table covers together)::

    (test_invalid_argument_is_rejected_with_name_and_value,
     test_every_parameter_has_a_validation_case,
     test_every_public_function_is_covered_by_the_table) = validation_table_tests(module, FUNCTIONS, INVALID)

``FUNCTIONS`` maps a name to ``(function, defaults)``, where ``defaults`` is a dict of valid
keyword arguments or a callable returning one (for arguments such as optimizers that must be
fresh). ``INVALID`` holds ``(name, parameter, overrides, error, message)`` rows. Because the
parameters are enumerated with ``inspect.signature``, a new parameter fails the suite until the
table has a row for it.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any

import pytest


def _valid_arguments(defaults: Mapping[str, Any] | Callable[[], Mapping[str, Any]]) -> dict[str, Any]:
    return dict(defaults() if callable(defaults) else defaults)


def validation_table_tests(
    module: ModuleType | Sequence[ModuleType],
    functions: Mapping[str, tuple[Callable[..., Any], Any]],
    invalid: Sequence[tuple[str, str, dict[str, Any], type[Exception], str]],
) -> tuple[Callable[..., None], Callable[..., None], Callable[[], None]]:
    @pytest.mark.parametrize(
        ("name", "parameter", "overrides", "error", "message"),
        invalid,
        ids=[f"{name}-{parameter}-{i}" for i, (name, parameter, *_) in enumerate(invalid)],
    )
    def test_invalid_argument_is_rejected_with_name_and_value(
        name: str, parameter: str, overrides: dict[str, Any], error: type[Exception], message: str
    ) -> None:
        function, defaults = functions[name]
        with pytest.raises(error, match=f"^{re.escape(message)}$"):
            function(**{**_valid_arguments(defaults), **overrides})

    @pytest.mark.parametrize("name", functions)
    def test_every_parameter_has_a_validation_case(name: str) -> None:
        function, _ = functions[name]
        checked = {parameter for function_name, parameter, *_ in invalid if function_name == name}
        assert set(inspect.signature(function).parameters) <= checked

    def test_every_public_function_is_covered_by_the_table() -> None:
        modules = [module] if isinstance(module, ModuleType) else list(module)
        public = {name for m in modules for name in m.__all__ if callable(getattr(m, name))}
        assert public == set(functions)

    return (
        test_invalid_argument_is_rejected_with_name_and_value,
        test_every_parameter_has_a_validation_case,
        test_every_public_function_is_covered_by_the_table,
    )
