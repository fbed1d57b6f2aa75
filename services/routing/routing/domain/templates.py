"""Saved-reply templates: `{{ customer.first_name }}`-style placeholders rendered by jinja2's
sandbox with StrictUndefined.

A template is checked against its syntax tree before it is saved: only `{{ namespace.field }}`
placeholders of the known fields, optionally piped through a few text filters with constant
arguments, are allowed. No tags, calls, subscripts, arithmetic or other attributes: a saved
reply is text with blanks, not a program, so everything else is refused by name at save time.
Rendering checks the same rules again (a body may predate a rule) and fails as a whole, with
every value it lacks, instead of sending a half-filled text to a customer."""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, nodes
from jinja2.sandbox import SandboxedEnvironment, SecurityError

# A saved reply is sent as it is, so it is held to the limit of any text (one place, not two).
from routing.domain.outbound import MAX_BODY_LENGTH

FIELDS: dict[str, tuple[str, ...]] = {
    "customer": ("first_name", "last_name", "full_name"),
    "sender": ("first_name", "name"),
    "dealership": ("name", "phone"),
    "appointment": ("date", "time", "service", "advisor"),
}
PLACEHOLDERS: tuple[str, ...] = tuple(f"{ns}.{field}" for ns, fields in FIELDS.items() for field in fields)
SAFE_FILTERS: tuple[str, ...] = ("default", "upper", "lower", "title", "capitalize", "trim")
# With `default` the placeholder may stay empty: `{{ customer.first_name | default("there") }}`.
_OPTIONAL_FILTER = "default"


@dataclass(frozen=True)
class TemplateProblem:
    kind: str  # syntax_error, too_long, unknown_placeholder, filter_not_allowed, not_allowed
    name: str | None
    message: str
    line: int | None = None

    def as_dict(self) -> dict:
        return {"kind": self.kind, "name": self.name, "message": self.message, "line": self.line}


class InvalidTemplate(ValueError):
    def __init__(self, problems: list[TemplateProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


class MissingValues(ValueError):
    """Placeholders the template uses without `default` that have no value."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__("no value for " + ", ".join(missing))
        self.missing = missing


class _Sandbox(SandboxedEnvironment):
    """The sandbox, narrowed further: no Python attribute, no call, only the safe filters.
    Values are plain dicts of strings, so `customer.first_name` is an item lookup."""

    def is_safe_attribute(self, obj: object, attr: str, value: object) -> bool:
        return False

    def is_safe_callable(self, obj: object) -> bool:
        return False


def _environment() -> _Sandbox:
    env = _Sandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    env.filters = {name: env.filters[name] for name in SAFE_FILTERS}
    env.tests = {}
    env.globals = {}
    return env


_ENV = _environment()


@dataclass(frozen=True)
class _Use:
    placeholder: str
    optional: bool  # the first filter applied is `default`


def _describe(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_describe(node.node)}.{node.attr}"
    return type(node).__name__.lower()


def _check_expression(expr: nodes.Expr, problems: list[TemplateProblem]) -> Iterator[_Use]:
    """The placeholders one `{{ … }}` uses; whatever is not allowed goes to `problems`."""
    filters: list[str] = []
    while isinstance(expr, nodes.Filter):
        if expr.name not in SAFE_FILTERS:
            problems.append(
                TemplateProblem(
                    "filter_not_allowed",
                    expr.name,
                    f"filter '{expr.name}' is not allowed (allowed: {', '.join(SAFE_FILTERS)})",
                    expr.lineno,
                )
            )
        arguments = [*expr.args, *(kw.value for kw in expr.kwargs)]
        if expr.dyn_args or expr.dyn_kwargs or not all(_is_constant(arg) for arg in arguments):
            problems.append(
                TemplateProblem(
                    "not_allowed",
                    expr.name,
                    f"arguments of filter '{expr.name}' must be plain text or numbers",
                    expr.lineno,
                )
            )
        filters.append(expr.name)
        expr = expr.node  # type: ignore[assignment]
    if _is_constant(expr):
        return
    if isinstance(expr, nodes.Getattr) and isinstance(expr.node, nodes.Name):
        name = f"{expr.node.name}.{expr.attr}"
        if name in PLACEHOLDERS:
            # `filters` runs outermost first; the one applied first to the value is the last.
            yield _Use(name, optional=bool(filters) and filters[-1] == _OPTIONAL_FILTER)
        else:
            problems.append(
                TemplateProblem("unknown_placeholder", name, f"unknown placeholder '{name}'", expr.lineno)
            )
        return
    if isinstance(expr, nodes.Name | nodes.Getattr):
        name = _describe(expr)
        problems.append(
            TemplateProblem("unknown_placeholder", name, f"unknown placeholder '{name}'", expr.lineno)
        )
        return
    kind = type(expr).__name__.lower()
    problems.append(
        TemplateProblem(
            "not_allowed",
            kind,
            f"only placeholders like {{{{ customer.first_name }}}} are allowed, not {kind}",
            expr.lineno,
        )
    )


def _is_constant(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Const) and isinstance(node.value, str | int | float)


def _analyse(body: str) -> list[_Use]:
    problems: list[TemplateProblem] = []
    if len(body) > MAX_BODY_LENGTH:
        problems.append(
            TemplateProblem("too_long", None, f"a saved reply has at most {MAX_BODY_LENGTH} characters")
        )
    try:
        tree = _ENV.parse(body)
    except TemplateSyntaxError as exc:
        problems.append(TemplateProblem("syntax_error", None, exc.message or "syntax error", exc.lineno))
        raise InvalidTemplate(problems) from exc
    uses: list[_Use] = []
    for statement in tree.body:
        if not isinstance(statement, nodes.Output):
            kind = type(statement).__name__.lower()
            problems.append(
                TemplateProblem(
                    "not_allowed", kind, f"tags such as {{% {kind} %}} are not allowed", statement.lineno
                )
            )
            continue
        for part in statement.nodes:
            if isinstance(part, nodes.TemplateData):
                continue
            uses.extend(_check_expression(part, problems))
    if problems:
        raise InvalidTemplate(problems)
    return uses


def placeholders_of(body: str) -> list[str]:
    """The placeholders a template uses, in order of first use; raises InvalidTemplate with
    every problem found."""
    return list(dict.fromkeys(use.placeholder for use in _analyse(body)))


def render(body: str, values: Mapping[str, str]) -> str:
    """The whole text, or MissingValues listing every placeholder used (without `default`)
    that has no non-empty value in `values` (keys like "customer.first_name")."""
    uses = _analyse(body)
    present = {key: value for key, value in values.items() if key in PLACEHOLDERS and value}
    missing = [use.placeholder for use in uses if not use.optional and use.placeholder not in present]
    if missing:
        raise MissingValues(list(dict.fromkeys(missing)))
    context: dict[str, dict[str, str]] = {ns: {} for ns in FIELDS}
    for key, value in present.items():
        ns, field = key.split(".", 1)
        context[ns][field] = value
    try:
        return _ENV.from_string(body).render(context)
    except UndefinedError as exc:  # the checks above should make this unreachable
        raise MissingValues([str(exc)]) from exc
    except SecurityError as exc:
        raise InvalidTemplate([TemplateProblem("not_allowed", None, str(exc))]) from exc


def preview(body: str, values: Mapping[str, str]) -> tuple[str, list[str]]:
    """A draft as it would read, before it is saved or when no customer is chosen: every
    placeholder used without `default` that has no value shows as `[namespace.field]`, and is
    listed (in order of first use). Raises InvalidTemplate like `render`."""
    uses = _analyse(body)
    present = {key: value for key, value in values.items() if key in PLACEHOLDERS and value}
    missing = list(
        dict.fromkeys(use.placeholder for use in uses if not use.optional and use.placeholder not in present)
    )
    return render(body, {**present, **{name: f"[{name}]" for name in missing}}), missing
