"""What every admin route module shares: the documented error answers, the use cases' refusals
as HTTP errors, and the roles a route may require."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends

from routing.admin.usecases.errors import (
    CannotChangeSelf,
    EmailTaken,
    InvalidMembers,
    LastAdmin,
    NotInAccount,
    NumberTaken,
    TeamInUse,
    TeamNameTaken,
)
from routing.domain.phones import InvalidPhoneNumber
from routing.staff_auth import StaffAuthenticated, role_guard
from shared.http.auth import Principal
from shared.http.errors import ApiError, error_response

UNAUTHORIZED = {
    401: error_response("No token, or the user was deactivated", "unauthorized", "invalid or expired token")
}
FORBIDDEN = {403: error_response("Admins only", "forbidden", "only admin may do this")}
STAFF_ONLY = {
    403: error_response("Staff only (not service tokens)", "forbidden", "only admin or agent may do this")
}
INVALID = {422: error_response("The request is not valid", "invalid_request", "the request is not valid")}


def not_found(what: str) -> dict:
    return {404: error_response(f"No such {what} in your account", "not_found", f"{what} not found")}


def conflict(code: str, message: str) -> dict:
    return {409: error_response("Refused: it would break a rule", code, message)}


def caller_with_role(auth: StaffAuthenticated, *roles: str) -> Any:
    """The route parameter type of a caller who holds one of `roles` ("admin", "agent", "service")."""
    return Annotated[Principal, Depends(role_guard(auth, *roles))]


@contextmanager
def refusals() -> Iterator[None]:
    """The use cases' refusals as HTTP errors."""
    try:
        yield
    except NotInAccount as exc:
        raise ApiError(404, "not_found", str(exc)) from exc
    except EmailTaken as exc:
        raise ApiError(409, "email_taken", str(exc), [{"loc": ["body", "email"]}]) from exc
    except CannotChangeSelf as exc:
        raise ApiError(409, "cannot_change_self", str(exc)) from exc
    except LastAdmin as exc:
        raise ApiError(409, "last_admin", str(exc)) from exc
    except TeamNameTaken as exc:
        raise ApiError(409, "team_name_taken", str(exc), [{"loc": ["body", "name"]}]) from exc
    except TeamInUse as exc:
        raise ApiError(409, "team_in_use", str(exc), {"assigned_conversations": exc.conversations}) from exc
    except InvalidMembers as exc:
        raise ApiError(
            422, "invalid_members", str(exc), {"user_ids": [str(i) for i in exc.user_ids]}
        ) from exc
    except NumberTaken as exc:
        raise ApiError(409, "number_taken", "this number is already registered") from exc
    except InvalidPhoneNumber as exc:
        raise ApiError(422, "invalid_phone_number", str(exc), [{"loc": ["body", "number"]}]) from exc


def now() -> datetime:
    return datetime.now(UTC)
