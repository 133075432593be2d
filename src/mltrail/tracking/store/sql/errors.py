"""Translation of database driver errors into the mltrail error tree, at the store boundary."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sqlalchemy import exc

from mltrail.errors import AlreadyExistsError, BackendError, MltrailError

__all__ = ["translate_errors"]

P = ParamSpec("P")
R = TypeVar("R")


def translate_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Wrap a store method so that SQLAlchemy errors leave it as ``MltrailError`` subclasses.

    ``IntegrityError`` becomes ``AlreadyExistsError``; any other database error becomes
    ``BackendError`` (chained with ``from``); mltrail errors pass through unchanged.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except MltrailError:
            raise
        except exc.IntegrityError as err:
            raise AlreadyExistsError(f"The resource already exists: {err.orig}") from err
        except exc.SQLAlchemyError as err:
            raise BackendError(f"The tracking database failed: {err}") from err

    return wrapper
