"""What a statement reads, from PostgreSQL's own parser (pglast): its tables and the column predicates on each.

Both advisors start here: the N+1 detector asks "one table, read by equality on which columns?", the index
advisor "which columns of which table are filtered, joined or ordered, and how?". pg_stat_statements replaces
constants by $n, so a predicate's value is usually a parameter; the few constants it keeps (IS NULL, true,
false) are the ones partial indexes are made of.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from queries.plan import ast_nodes

# what a predicate asks of its column, as an index sees it
EQUALITY, IN_LIST, RANGE, IS_NULL, PREFIX, WILDCARD, JOIN, ORDER, FLAG = (
    "equality", "in", "range", "is_null", "prefix", "wildcard", "join", "order", "flag")
_RANGE_OPERATORS = {"<", ">", "<=", ">="}
_LIKE = {"~~": "like", "~~*": "ilike"}  # LIKE and ILIKE as operators (NOT LIKE, !~~, no index serves)
# the kinds an index on the column serves (IS NULL and flags make partial indexes, join keys need the other table)
INDEXABLE = (EQUALITY, IN_LIST, RANGE, PREFIX, WILDCARD)
_FLIPPED = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "="}


@dataclass(frozen=True)
class TableRef:
    schema: str | None
    name: str
    alias: str | None

    def answers_to(self, qualifier: str) -> bool:
        return qualifier == (self.alias or self.name)


@dataclass(frozen=True)
class Predicate:
    qualifier: str | None  # the table name or alias written before the column, if any
    column: str
    kind: str
    constant: str | None = None  # the predicate's text when it compares to a constant the server kept (IS NULL, false)
    parameter: int | None = None  # n of the $n an equality compares to (a boolean's value hidden by pg_stat_statements)


@dataclass(frozen=True)
class Shape:
    """A plain SELECT's tables and predicates; `tables` counts every table the statement reads, subqueries included."""

    tables: tuple[TableRef, ...]
    predicates: tuple[Predicate, ...]
    has_limit: bool
    parameter_count: int

    @property
    def reads_lists(self) -> bool:
        """IN (...) or = ANY(...): the batched loads selectinload issues."""
        return any(predicate.kind == IN_LIST for predicate in self.predicates)


def statement_shape(sql: str) -> Shape | None:
    """The shape of one read-only SELECT, or None for anything else (writes, several statements, unparsable text)."""
    import pglast
    from pglast import ast

    try:
        parsed = pglast.parse_sql(sql)
    except Exception:  # pg_stat_statements keeps truncated or non-SQL texts too: they have no shape
        return None
    if len(parsed) != 1 or not isinstance(parsed[0].stmt, ast.SelectStmt):
        return None
    select = parsed[0].stmt
    nodes = list(ast_nodes(select))
    if select.lockingClause or any(isinstance(n, (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt)) for n in nodes):
        return None
    tables = tuple(TableRef(n.schemaname, n.relname, n.alias.aliasname if n.alias else None)
                   for n in nodes if isinstance(n, ast.RangeVar))
    predicates = [*_conjuncts_predicates(select.whereClause), *_join_predicates(select.fromClause)]
    if select.limitCount is not None:
        predicates += [Predicate(*ref, ORDER) for ref in _sort_columns(select.sortClause)]
    parameters = [n.number for n in nodes if isinstance(n, ast.ParamRef)]
    return Shape(tables, tuple(predicates), select.limitCount is not None, max(parameters, default=0))


def filter_predicates(filter_text: str | None) -> list[Predicate]:
    """The predicates of a plan node's Filter as EXPLAIN prints it, `((v = 42) AND (body ~~* '%pg%'::text))`, without
    qualifiers (a scan filters one table); [] for display syntax that is not SQL, such as `(InitPlan 1).col1`."""
    import pglast

    if not filter_text:
        return []
    try:
        where = pglast.parse_sql(f"SELECT 1 WHERE {filter_text}")[0].stmt.whereClause
    except Exception:  # noqa: BLE001 - any text the parser refuses has no predicates to read
        return []
    return [replace(predicate, qualifier=None) for predicate in _conjuncts_predicates(where)]


def _conjuncts(expression) -> Iterator:
    """The AND-ed parts of a WHERE or ON clause (an OR is one part: no single index column serves it)."""
    from pglast import ast
    from pglast.enums import BoolExprType

    if isinstance(expression, ast.BoolExpr) and expression.boolop == BoolExprType.AND_EXPR:
        for argument in expression.args:
            yield from _conjuncts(argument)
    elif expression is not None:
        yield expression


def _join_predicates(from_clause) -> Iterator[Predicate]:
    from pglast import ast

    for node in ast_nodes(from_clause or ()):
        if isinstance(node, ast.JoinExpr) and node.quals is not None:
            yield from _conjuncts_predicates(node.quals)


def _conjuncts_predicates(expression) -> Iterator[Predicate]:
    for part in _conjuncts(expression):
        yield from _predicates_of(part)


def _column(node) -> tuple[str | None, str] | None:
    """(qualifier, column) of a column reference, through casts; None for anything else."""
    from pglast import ast

    while isinstance(node, ast.TypeCast):
        node = node.arg
    if not isinstance(node, ast.ColumnRef) or not all(isinstance(field, ast.String) for field in node.fields):
        return None
    names = [field.sval for field in node.fields]
    return (names[-2] if len(names) > 1 else None), names[-1]


def _is_value(node) -> bool:
    """A parameter, a constant, or a cast of one: what an index lookup can be keyed by."""
    from pglast import ast

    while isinstance(node, ast.TypeCast):
        node = node.arg
    return isinstance(node, (ast.ParamRef, ast.A_Const))


def _constant_text(node) -> str | None:
    """The SQL of a constant pg_stat_statements kept in the text (true / false): partial-index material."""
    from pglast import ast
    from pglast.stream import RawStream

    while isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, ast.A_Const) and not node.isnull:
        return RawStream()(node)
    return None


def _flag(part) -> Predicate | None:
    """A boolean column tested alone: `is_published`, `NOT is_deleted`, `is_deleted IS FALSE` (texts
    pg_stat_statements keeps as written, unlike `= false`), as the predicate a partial index would carry."""
    from pglast import ast
    from pglast.enums import BoolExprType, BoolTestType

    if column := _column(part):
        return Predicate(*column, FLAG, "= true")
    if isinstance(part, ast.BoolExpr) and part.boolop == BoolExprType.NOT_EXPR and (column := _column(part.args[0])):
        return Predicate(*column, FLAG, "= false")
    tests = {BoolTestType.IS_TRUE: "IS TRUE", BoolTestType.IS_FALSE: "IS FALSE"}
    if isinstance(part, ast.BooleanTest) and part.booltesttype in tests and (column := _column(part.arg)):
        return Predicate(*column, FLAG, tests[part.booltesttype])
    return None


def _parameter(node) -> int | None:
    from pglast import ast

    while isinstance(node, ast.TypeCast):
        node = node.arg
    return node.number if isinstance(node, ast.ParamRef) else None


def _predicates_of(part) -> Iterator[Predicate]:
    from pglast import ast
    from pglast.enums import A_Expr_Kind, NullTestType

    if isinstance(part, ast.NullTest):
        if (column := _column(part.arg)) and part.nulltesttype == NullTestType.IS_NULL:
            yield Predicate(*column, IS_NULL, "IS NULL")
        return
    if (flag := _flag(part)) is not None:
        yield flag
        return
    if not isinstance(part, ast.A_Expr):
        return
    operator = part.name[-1].sval if part.name else None
    left, right = _column(part.lexpr), _column(part.rexpr) if isinstance(part.rexpr, ast.Node) else None
    if part.kind == A_Expr_Kind.AEXPR_IN or (part.kind == A_Expr_Kind.AEXPR_OP_ANY and operator == "="):
        if left:
            yield Predicate(*left, IN_LIST)
    elif part.kind in (A_Expr_Kind.AEXPR_BETWEEN, A_Expr_Kind.AEXPR_BETWEEN_SYM):
        if left:
            yield Predicate(*left, RANGE)
    elif part.kind in (A_Expr_Kind.AEXPR_LIKE, A_Expr_Kind.AEXPR_ILIKE, A_Expr_Kind.AEXPR_OP) and operator in _LIKE \
            and left:
        yield Predicate(*left, _like_kind(part))
    elif part.kind == A_Expr_Kind.AEXPR_OP and left and right:
        if operator == "=":
            yield Predicate(*left, JOIN)
            yield Predicate(*right, JOIN)
    elif part.kind == A_Expr_Kind.AEXPR_OP and (left or right) and operator in ("=", *_RANGE_OPERATORS):
        column, value = (left, part.rexpr) if left else (right, part.lexpr)
        if not _is_value(value):
            return
        constant = _constant_text(value)
        kind = EQUALITY if operator == "=" else RANGE
        # only a boolean constant is partial-index material; `v = 42` (as plans print filters) is a key like `v = $1`
        flag = constant is not None and constant.lower() in ("true", "false") and kind == EQUALITY
        yield Predicate(*column, kind, f"= {constant.lower()}" if flag else None,
                        _parameter(value) if kind == EQUALITY else None)


def _like_kind(part) -> str:
    """A literal pattern without a leading wildcard is a prefix a B-tree serves; ILIKE and patterns the text
    does not show ($n, as pg_stat_statements writes every literal) may start with one: only a trigram index serves both.
    Plans print LIKE as the operator ~~ and ILIKE as ~~*, the pattern cast: `(body ~~* '%pg%'::text)`."""
    from pglast import ast

    pattern = part.rexpr
    while isinstance(pattern, ast.TypeCast):
        pattern = pattern.arg
    if _LIKE[part.name[-1].sval] == "like" and isinstance(pattern, ast.A_Const) and isinstance(pattern.val, ast.String):
        text = pattern.val.sval
        return WILDCARD if text[:1] in ("%", "_") else PREFIX
    return WILDCARD


def _sort_columns(sort_clause) -> Iterator[tuple[str | None, str]]:
    for item in sort_clause or ():
        if column := _column(item.node):
            yield column


def bound_text(sql: str, values: dict[int, bool]) -> tuple[str, int]:
    """The statement with the booleans given for some of its $n written in, the other $n renumbered from 1, and
    how many are left: the text a plan is costed on when a partial index needs the value pg_stat_statements hid."""
    import pglast
    from pglast import ast, visitors
    from pglast.stream import RawStream

    tree = pglast.parse_sql(sql)
    kept = sorted({n.number for n in ast_nodes(tree) if isinstance(n, ast.ParamRef)} - set(values))
    numbers = {old: new for new, old in enumerate(kept, start=1)}

    class _Bind(visitors.Visitor):
        def visit_ParamRef(self, ancestors, node):  # noqa: N802 - pglast's visitor naming
            if node.number in values:
                return ast.A_Const(val=ast.Boolean(boolval=values[node.number]))
            return ast.ParamRef(number=numbers[node.number])

    _Bind()(tree)
    return RawStream()(tree), len(kept)
