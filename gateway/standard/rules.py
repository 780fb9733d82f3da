"""Content rules of a release: ISO Schematron next to its XSDs, compiled once into lxml XPath.

A release directory (``schemas/ijw/3_2``) may hold ``regels.sch``, the rules that can be judged on one
message (TR "bericht inhoud (xslt)", CD conditions, CS constraints), and ``regels.toml``, the register of
every rule code of the release: which ones the Schematron implements, which the XSD already enforces, which
need other messages or an outside source, each with its retourcode and reason.

The Schematron is read by this module's own small evaluator instead of being compiled to XSLT: every
``sch:rule`` becomes one ``etree.XPath`` per assert (``(context)[not(test)]``: the failing nodes), and per
message type one more XPath, the gate, judges every simple rule in a single libxml2 call (the contexts'
common steps walked once) and names each one that fails to a Python extension function as it finds it,
which answers false so that the walk goes on; it names the context nodes of every rule that binds ``$this``
the same way (each then judged with its test in a call of its own). A message that keeps every rule costs
that call and one per global ``sch:let``; only the rules the gate named are evaluated again, for their
failing nodes. The subset it reads is what
the release files use and every Schematron processor understands:

- ``sch:ns``; ``sch:let`` at schema level (evaluated once per message, bound as an XPath variable);
- ``sch:pattern`` with ``@id`` = the rule code (``CS002``) and its ``sch:title``;
- ``sch:rule`` with an absolute ``@context`` (XPath 1.0, unions allowed) and rule-level ``sch:let``
  (bound per context node; the value ``.`` binds the node itself, XSLT's ``current()``);
- ``sch:assert`` (fails when false) and ``sch:report`` (fails when true), their text the rule's own.

A rule belongs to the message types whose namespace prefixes its context uses. Pure after :meth:`load`:
no I/O, safe from several threads (lxml XPath objects are re-entrant; each call gets its own context).
"""

from __future__ import annotations

import re
import threading
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final, Literal

from lxml import etree

from gateway.errors import ErrorItem
from gateway.standard import xpathcache
from gateway.standard.errortext import node_path
from gateway.standard.xsdindex import SchemaIndexError

SCH: Final = "http://purl.oclc.org/dsdl/schematron"
REPO_RULES: Final = Path(__file__).resolve().parents[2] / "schemas"  # the rule files sit beside the XSDs
RULES_FILE: Final = "regels.sch"
REGISTER_FILE: Final = "regels.toml"

Mode = Literal["refuse", "warn", "off"]
MODES: Final[tuple[Mode, ...]] = ("refuse", "warn", "off")
Status = Literal["schematron", "xsd", "berichtoverstijgend", "externe-bron"]
STATUSES: Final[tuple[str, ...]] = ("schematron", "xsd", "berichtoverstijgend", "externe-bron")

_PREFIX = re.compile(r"([A-Za-z_][\w.-]*):(?!:)")
# one plain relative path compared with string literals in a row of ``or`` (``P = 'a' or P = 'b'``), where
# the row is a whole operand: after "(", "[" or " or ", before ")", "]" or " or " (``or`` binds loosest)
_NAME = r"[A-Za-z_][\w.-]*:[A-Za-z_][\w.-]*"
_LITERAL = r"'[^']*'"
_EQUALS_ROW = re.compile(
    rf"(?:(?<=[(\[])|(?<= or ))((?:\.\./)*{_NAME}(?:/{_NAME})*) = ({_LITERAL})((?: or \1 = {_LITERAL})+)"
    r"(?=[)\]]| or )"
)
_BOOLEAN_CALL = re.compile(r"(?:^|[^\w.-])(?:not|boolean)\($")
# A schema-level let of exactly this value is the message's own date as a number (20230715): a caller that
# read that Dagtekening already gives its date to :meth:`MessageRules.check` instead (see there).
DAGTEKENING_LET: Final = "number(translate(/*/*[1]/*[local-name() = 'BerichtIdentificatie']/*[local-name() = 'Dagtekening'], '-', ''))"
# A simple check of exactly this test whose context ends at the message's own Bsn is the 11-proof of a Bsn: a
# caller that read the text of every Bsn element of a schema-valid message gives them to
# :meth:`MessageRules.check`, which judges them in Python and asks a gate without those checks when all pass.
ELFPROEF_TEST: Final = (
    "(9*substring(.,1,1) + 8*substring(.,2,1) + 7*substring(.,3,1) + 6*substring(.,4,1) + 5*substring(.,5,1)"
    " + 4*substring(.,6,1) + 3*substring(.,7,1) + 2*substring(.,8,1) - substring(.,9,1)) mod 11 = 0"
)
_SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


class RulesError(SchemaIndexError):
    """A release's rule files cannot be read or compiled; the text names the file and the rule."""


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """One rule code of a release as its register lists it."""

    code: str
    kind: str  # TR, CD, CS or RS
    status: Status
    retourcode: str | None = None
    text: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """One broken rule at one node: code, the rule's own text, retourcode, and where (never a value)."""

    code: str
    text: str
    retourcode: str | None
    path: str
    line: int | None

    def item(self, chain_code: str) -> ErrorItem:
        return ErrorItem(chain_code, self.text, self.line, self.path, self.code, self.retourcode)


@dataclass(frozen=True, slots=True)
class _Check:
    """One assert (or report) of one rule, compiled: the XPath selecting its failing nodes."""

    code: str
    text: str
    retourcode: str | None
    failing: etree.XPath = field(repr=False)
    test: etree.XPath | None = field(default=None, repr=False)  # per node, for rules with lets
    report: bool = False
    context: str = field(default="", repr=False)
    test_text: str = field(default="", repr=False)


class _Hits(threading.local):
    """What the gates' extension functions heard on this thread: the indexes of the failing checks, each
    call a space-separated string, and the context nodes of the rules that bind ``$this``, by the rule's
    index (libxml2 calls the functions on the thread that evaluates the XPath)."""

    def __init__(self) -> None:
        self.heard: list[str] = []
        self.nodes: list[tuple[str, Any]] = []


_HITS: Final = _Hits()
HIT_PREFIX: Final = "gatewayhit"  # the prefix of the gates' extension function (not a Schematron's own)
_HIT_URI: Final = "urn:gateway:rules:hit"


def _hit(context: object, indexes: object) -> bool:
    """``gatewayhit:hit('3 7')``: checks 3 and 7 fail at the context node. False: the gate walks on."""
    _HITS.heard.append(str(indexes))
    return False


def _node(context: Any, rule: object) -> bool:
    """``gatewayhit:node('2')``: the context node is one of rule 2's (a rule that binds ``$this``)."""
    _HITS.nodes.append((str(rule), context.context_node))
    return False


def _failing_checks(
    gate: etree.XPath, root: etree._Element, variables: Mapping[str, Any]
) -> tuple[set[int], dict[int, list[etree._Element]]]:
    """The indexes of the simple checks that fail and the context nodes of the bound rules the gate walks
    to (in document order), from one evaluation of a recording gate."""
    heard: list[str] = []
    nodes: list[tuple[str, Any]] = []
    _HITS.heard, _HITS.nodes = heard, nodes
    gate(root, **variables)
    contexts: dict[int, list[etree._Element]] = {}
    for rule, node in nodes:
        contexts.setdefault(int(rule), []).append(node)
    return {int(i) for indexes in heard for i in indexes.split()}, contexts


@dataclass(frozen=True, slots=True)
class _BoundRule:
    """A rule with rule-level lets: its context, its lets and its checks, evaluated node by node."""

    context: etree.XPath = field(repr=False)
    lets: tuple[tuple[str, etree.XPath | None], ...] = field(repr=False)
    checks: tuple[_Check, ...] = ()
    context_text: str = field(default="", repr=False)


class MessageRules:
    """The compiled rules of one message type (one namespace).

    ``gate`` judges every simple rule in one libxml2 call and names each failing one as it finds it (with
    ``lets`` and each rule with lets' context, the only calls a message that keeps every rule costs); only
    the named rules are evaluated again, for their failing nodes.
    """

    def __init__(
        self,
        namespace: str,
        simple: Sequence[_Check],
        bound: Sequence[_BoundRule],
        lets: Mapping[str, etree.XPath],
        gate: etree.XPath | None,
        elfproef_gate: tuple[etree.XPath | None] | None = None,
        gated: Iterable[int] = (),
    ) -> None:
        self.namespace = namespace
        self._simple = tuple(simple)
        self._bound = tuple(bound)
        self._lets = tuple(lets.items())
        self._dagtekening = next(
            (n for n, x in self._lets if " ".join(x.path.split()) == DAGTEKENING_LET), None
        )
        self._gate = gate
        # the bound rules whose context nodes the gate names (its context a plain path): no call of their own
        self._gated = frozenset(gated)
        self._ungated = len(self._bound) - len(self._gated)
        # (the gate without the 11-proof checks,): None when this message type has none
        self._elfproef_gate = elfproef_gate

    def __repr__(self) -> str:
        return f"MessageRules({self.namespace!r}, rules={len(self)})"

    def __len__(self) -> int:
        return len(self._simple) + sum(len(b.checks) for b in self._bound)

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(c.code for c in self._simple) | frozenset(
            c.code for b in self._bound for c in b.checks
        )

    def check(
        self, root: etree._Element, dagtekening: date | None = None, bsns: Sequence[str] | None = None
    ) -> list[Finding]:
        """Every broken rule of a schema-valid message, in rule order.

        ``dagtekening``: the date of the element :data:`DAGTEKENING_LET` reads (the first grandchild named
        Dagtekening of the root's first child, under its first child named BerichtIdentificatie), when the
        caller read it already from this schema-valid message by ``date.fromisoformat`` of its stripped text:
        an ``xs:date`` that it accepts is ``YYYY-MM-DD``, whose number without the dashes is
        ``year * 10000 + month * 100 + day``, so that let is not evaluated again.

        ``bsns``: the text, as it is, of every element named Bsn in the message's namespace, when the caller
        read them all from this schema-valid message. The context nodes of an :data:`ELFPROEF_TEST` check
        are among them; when every text is nine ASCII digits that pass the 11-proof in Python (the same
        arithmetic as the XPath's on such a string), no such check can fail and the gate without them
        decides. Otherwise the whole gate does, as without ``bsns``.
        """
        variables: dict[str, Any] = {}
        for name, global_let in self._lets:  # (a loop: a comprehension is one more frame per message)
            if name == self._dagtekening and dagtekening is not None:
                variables[name] = float(dagtekening.year * 10000 + dagtekening.month * 100 + dagtekening.day)
            else:
                variables[name] = global_let(root)
        gate = self._gate
        if bsns is not None and self._elfproef_gate is not None and all(map(elfproef, bsns)):
            gate = self._elfproef_gate[0]
        failing, contexts = _failing_checks(gate, root, variables) if gate is not None else (set(), {})
        if not failing and not contexts and not self._ungated:
            return []
        found: list[Finding] = []
        simple = self._simple
        for index in sorted(failing):
            check = simple[index]
            found.extend(_finding(check, node) for node in _nodes(check.failing(root, **variables)))
        gated = self._gated
        for r, rule in enumerate(self._bound):
            nodes = contexts.get(r, []) if r in gated else _nodes(rule.context(root, **variables))
            for node in nodes:
                bound = dict(variables)
                for name, let in rule.lets:
                    bound[name] = [node] if let is None else let(node, **bound)
                for check in rule.checks:
                    assert check.test is not None
                    if bool(check.test(node, **bound)) == check.report:
                        found.append(_finding(check, node))
        return found


def elfproef(bsn: str) -> bool:
    """Whether ``bsn`` is nine ASCII digits that pass the 11-proof of :data:`ELFPROEF_TEST`."""
    if len(bsn) != 9 or not bsn.isascii() or not bsn.isdigit():
        return False
    d = bsn.encode()
    total = 9 * d[0] + 8 * d[1] + 7 * d[2] + 6 * d[3] + 5 * d[4] + 4 * d[5] + 3 * d[6] + 2 * d[7] - d[8]
    return (total - 43 * 48) % 11 == 0  # (the weights 9 ... 2 and -1 sum to 43: the digits' "0"s taken off)


def _nodes(result: object) -> list[etree._Element]:
    """The elements of an XPath result (contexts select elements; anything else is ignored)."""
    if not isinstance(result, list):
        return []
    return [n for n in result if isinstance(n, etree._Element)]


def _finding(check: _Check, node: etree._Element) -> Finding:
    line = node.sourceline
    return Finding(
        check.code, check.text, check.retourcode, node_path(node), line if isinstance(line, int) else None
    )


@dataclass(frozen=True, slots=True)
class ReleaseRules:
    """The rules of one release directory: its register and the compiled rules per message namespace."""

    directory: Path
    register: tuple[RuleInfo, ...]
    messages: Mapping[str, MessageRules] = field(repr=False)

    def info(self, code: str) -> RuleInfo | None:
        return next((r for r in self.register if r.code == code), None)


class ContentRules:
    """The content rules of every installed release, by message namespace."""

    def __init__(self, releases: Iterable[ReleaseRules] = ()) -> None:
        self.releases = tuple(releases)
        self._by_namespace = {ns: rules for r in self.releases for ns, rules in r.messages.items()}

    def __repr__(self) -> str:
        return f"ContentRules(releases={len(self.releases)}, messages={len(self._by_namespace)})"

    def for_namespace(self, namespace: str) -> MessageRules | None:
        return self._by_namespace.get(namespace)

    def check(
        self,
        namespace: str,
        root: etree._Element,
        dagtekening: date | None = None,
        bsns: Sequence[str] | None = None,
    ) -> list[Finding]:
        """:meth:`MessageRules.check` of the message type's rules (none: no finding)."""
        rules = self._by_namespace.get(namespace)
        return rules.check(root, dagtekening, bsns) if rules is not None else []

    @classmethod
    def from_dirs(cls, dirs: Iterable[Path], message_namespaces: Iterable[str]) -> ContentRules:
        """Every ``regels.sch`` under the directories, compiled for the given message namespaces; a
        namespace whose rules sit in more than one directory takes the first (as the schemas do)."""
        wanted = frozenset(message_namespaces)
        releases: list[ReleaseRules] = []
        taken: set[str] = set()
        for directory in dirs:
            if not directory.is_dir():
                continue
            for path in sorted(directory.rglob(RULES_FILE)):
                release = load_release(path.parent, wanted - taken)
                taken.update(release.messages)
                releases.append(release)
        return cls(releases)


def load_release(directory: Path, namespaces: Iterable[str] | None = None) -> ReleaseRules:
    """Read and compile ``regels.sch`` and ``regels.toml`` of one release directory."""
    register = read_register(directory / REGISTER_FILE)
    retour = {r.code: r.retourcode for r in register}
    sch = directory / RULES_FILE
    try:
        schema = etree.parse(str(sch), _SAFE).getroot()
    except (OSError, etree.XMLSyntaxError) as exc:
        raise RulesError(f"{sch}: cannot be read ({exc})") from None
    compiled = compile_schematron(schema, retour, str(sch))
    if namespaces is not None:
        keep = frozenset(namespaces)
        compiled = {ns: r for ns, r in compiled.items() if ns in keep}
    implemented = {r.code for r in register if r.status == "schematron"}
    used = {code for r in compiled.values() for code in r.codes}
    missing = sorted(used - implemented)
    if missing:
        raise RulesError(f"{sch}: rule codes not registered as schematron in {REGISTER_FILE}: {missing}")
    return ReleaseRules(directory, register, compiled)


def read_register(path: Path) -> tuple[RuleInfo, ...]:
    """The ``[[regel]]`` entries of a release's ``regels.toml``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RulesError(f"{path}: cannot be read ({exc})") from None
    rules: list[RuleInfo] = []
    for entry in data.get("regel", []):
        code = str(entry.get("code", ""))
        status = entry.get("status")
        if not re.fullmatch(r"(TR|CD|CS|RS)\d{3}", code) or status not in STATUSES:
            raise RulesError(f"{path}: entry {entry!r} needs a code (TR/CD/CS/RS + 3 digits) and a status")
        if status != "schematron" and not entry.get("reason"):
            raise RulesError(f"{path}: {code} is not implemented and states no reason")
        rules.append(
            RuleInfo(code, code[:2], status, entry.get("retourcode"), entry.get("text"), entry.get("reason"))
        )
    return tuple(rules)


def compile_schematron(
    schema: etree._Element, retourcodes: Mapping[str, str | None], source: str = "regels.sch"
) -> dict[str, MessageRules]:
    """Compile a Schematron document: its rules per message namespace (see the module docstring)."""
    if schema.tag != f"{{{SCH}}}schema":
        raise RulesError(f"{source}: not an ISO Schematron schema")
    nsmap = {ns.get("prefix", ""): ns.get("uri", "") for ns in schema.iterfind(f"{{{SCH}}}ns")}
    globals_: dict[str, str] = {
        let.get("name", ""): let.get("value", "") for let in schema.iterfind(f"{{{SCH}}}let")
    }
    simple: dict[str, list[tuple[str, _Check]]] = {}
    bound: dict[str, list[_BoundRule]] = {}
    used_lets: dict[str, set[str]] = {}

    if HIT_PREFIX in nsmap:
        raise RulesError(f"{source}: the prefix {HIT_PREFIX} is the gates' own")

    def xpath(expr: str, where: str, recording: bool = False) -> etree.XPath:
        # only the prefixes the expression names: every call registers its namespaces anew
        expr = one_walk_per_row(expr)
        named = set(_PREFIX.findall(expr))
        used = {p: uri for p, uri in nsmap.items() if p in named}
        extensions = None
        if recording:
            used[HIT_PREFIX] = _HIT_URI
            extensions = {(_HIT_URI, "hit"): _hit, (_HIT_URI, "node"): _node}
        try:
            compiled = etree.XPath(expr, namespaces=used, regexp=False, extensions=extensions)
        except etree.XPathSyntaxError as exc:
            raise RulesError(f"{source}: {where}: {exc}: {expr}") from None
        xpathcache.enable(compiled)  # libxml2 recycles its node sets and values instead of malloc/free
        return compiled

    for pattern in schema.iterfind(f"{{{SCH}}}pattern"):
        code = pattern.get("id", "")
        for rule in pattern.iterfind(f"{{{SCH}}}rule"):
            context = rule.get("context", "")
            where = f"pattern {code} rule {context[:60]}"
            targets = _message_namespaces(context, nsmap)
            if not context.startswith("/") or not targets:
                raise RulesError(f"{source}: {where}: the context must be an absolute path into a message")
            lets = tuple(
                (let.get("name", ""), None if let.get("value") == "." else xpath(let.get("value", ""), where))
                for let in rule.iterfind(f"{{{SCH}}}let")
            )
            checks: list[tuple[str, _Check]] = []
            for test_el in rule:
                if test_el.tag not in (f"{{{SCH}}}assert", f"{{{SCH}}}report"):
                    continue
                test = test_el.get("test", "")
                report = test_el.tag == f"{{{SCH}}}report"
                text = " ".join((test_el.text or "").split())
                failing_expr = f"({context})[{'' if report else 'not'}({test})]"
                check = _Check(
                    code,
                    text,
                    retourcodes.get(code),
                    xpath(failing_expr, where),
                    xpath(f"boolean({test})", where) if lets else None,
                    report,
                    context,
                    test,
                )
                checks.append((f"({context})[{'' if report else 'not'}({test})]", check))
            names = {n for n in globals_ if f"${n}" in context + " ".join(e for e, _ in checks)}
            for ns in targets:
                used_lets.setdefault(ns, set()).update(names)
                if lets:
                    bound.setdefault(ns, []).append(
                        _BoundRule(xpath(context, where), lets, tuple(c for _, c in checks), context)
                    )
                else:
                    simple.setdefault(ns, []).extend(checks)
    result: dict[str, MessageRules] = {}
    for ns in sorted(set(simple) | set(bound)):
        own = [c for _, c in simple.get(ns, [])]
        rules = bound.get(ns, [])
        walked = [(r, steps) for r, b in enumerate(rules) if (steps := _steps(b.context_text)) is not None]
        fails = _any_fails(_check_branches(own), walked)
        gate = xpath(fails, f"{ns} (all rules)", recording=True) if fails else None
        global_lets = {n: xpath(globals_[n], f"let {n}") for n in sorted(used_lets.get(ns, ()))}
        proofs = {i for i, c in enumerate(own) if _is_elfproef(c, ns, nsmap)}
        elfproef_gate = None
        if proofs:
            rest = _any_fails([b for b in _check_branches(own) if b[0] not in proofs], walked)
            elfproef_gate = (
                xpath(rest, f"{ns} (all rules but the 11-proof)", recording=True) if rest else None,
            )
        gated = [r for r, _ in walked] if gate is not None else []
        result[ns] = MessageRules(ns, own, rules, global_lets, gate, elfproef_gate, gated)
    return result


def _is_elfproef(check: _Check, namespace: str, nsmap: Mapping[str, str]) -> bool:
    """Whether a simple check is :data:`ELFPROEF_TEST` on a plain path ending at the message's own Bsn."""
    steps = _steps(check.context)
    if check.report or steps is None or " ".join(check.test_text.split()) != ELFPROEF_TEST:
        return False
    prefix, _, name = steps[-1].partition(":")
    return name == "Bsn" and nsmap.get(prefix) == namespace


def one_walk_per_row(expr: str) -> str:
    """``expr`` with every row ``P = 'a' or P = 'b' or ...`` (one plain relative path ``P``, string
    literals) as ``P[. = 'a' or . = 'b' or ...]``: libxml2 walks to ``P`` once instead of once per literal.

    The same truth: a node-set equals a string when one of its nodes' string-value does, so the row is true
    exactly when some node of ``P`` equals one of the literals, when ``P[...]`` is not empty. A row is
    rewritten only where it is a whole operand (between brackets, or beside an ``or``, which binds loosest)
    and outside any string literal; where its value is not taken as a boolean already (an ``or`` operand, a
    predicate, the argument of ``not`` or ``boolean``) the node-set is wrapped in ``boolean()``."""
    out: list[str] = []
    done = 0
    for match in _EQUALS_ROW.finditer(expr):
        start, end = match.span()
        if start < done or _in_literal(expr, start):
            continue
        path, first, rest = match.groups()
        literals = [first, *re.findall(_LITERAL, rest)]
        row = f"{path}[{' or '.join(f'. = {literal}' for literal in literals)}]"
        before, after = expr[start - 1], expr[end : end + 1]
        if before == "(" and after == ")" and not _BOOLEAN_CALL.search(expr[:start]):
            row = f"boolean({row})"
        out.append(expr[done:start] + row)
        done = end
    return "".join(out) + expr[done:]


def _in_literal(expr: str, at: int) -> bool:
    """Whether offset ``at`` of an XPath lies inside a string literal (``'...'`` or ``"..."``)."""
    quote = ""
    for ch in expr[:at]:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
    return bool(quote)


def _message_namespaces(context: str, nsmap: Mapping[str, str]) -> list[str]:
    """The namespaces of the messages a context path goes into (its first step of every branch)."""
    found: list[str] = []
    for branch in _branches(context):
        match = _PREFIX.search(branch)
        if match and match.group(1) in nsmap and nsmap[match.group(1)] not in found:
            found.append(nsmap[match.group(1)])
    return found


def _split_top(text: str, separator: str) -> list[str]:
    """``text`` split at every ``separator`` outside brackets, parentheses and quotes."""
    parts: list[str] = []
    depth, quote, start = 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _steps(path: str) -> list[str] | None:
    """The steps of a plain absolute location path (``/a:B/a:C[x]/d:E``), or None for anything else
    (``//``, a union, a function call)."""
    if not path.startswith("/") or len(_split_top(path, "|")) > 1:
        return None
    steps = _split_top(path, "/")[1:]
    return steps if steps and all(steps) else None


@dataclass
class _Trie:
    tests: dict[str, list[int]] = field(default_factory=dict)  # failing test -> the checks of that test
    children: dict[str, _Trie] = field(default_factory=dict)
    contexts: list[int] = field(default_factory=list)  # the bound rules whose context ends here

    def predicate(self) -> str:
        parts = [f"{HIT_PREFIX}:node('{rule}')" for rule in self.contexts]
        parts += [f"({failing}) and {_hit_call(indexes)}" for failing, indexes in self.tests.items()]
        parts += [f"{step}[{child.predicate()}]" for step, child in self.children.items()]
        return " or ".join(parts)


_Branch = tuple[int, str, list[str] | None, str]  # (check index, branch, its steps or None, failing test)


def _check_branches(checks: Sequence[_Check]) -> list[_Branch]:
    """Every branch of every check's context, with the check's failing test."""
    branches: list[_Branch] = []
    for index, check in enumerate(checks):
        failing = f"({check.test_text})" if check.report else f"not({check.test_text})"
        branches.extend((index, b, _steps(b), failing) for b in _branches(check.context))
    return branches


def _any_fails(branches: Sequence[_Branch], contexts: Sequence[tuple[int, list[str]]] = ()) -> str:
    """One XPath that names every failing check to ``gatewayhit:hit`` and is false (the function answers
    false, so every ``or`` goes on and every predicate filters every node): the contexts' common steps
    walked once (a trie of their location paths, each test a predicate at its context's last step) instead
    of once per rule. A test is ``(failing) and gatewayhit:hit('i j')``: the function is called only where
    the test fails, with the indexes of the checks that share that test on that context (TR101 and TR383).
    ``contexts``: the bound rules' plain context paths (their index, their steps); the gate names every node
    it walks to at the end of one (``gatewayhit:node('r')``), in document order."""
    root = _Trie()
    for rule, path in contexts:
        node = root
        for step in path:
            node = node.children.setdefault(step, _Trie())
        node.contexts.append(rule)
    loose: dict[tuple[str, str], list[int]] = {}
    for index, branch, steps, failing in branches:
        if steps is None:
            loose.setdefault((branch, failing), []).append(index)
            continue
        node = root
        for step in steps:
            node = node.children.setdefault(step, _Trie())
        node.tests.setdefault(failing, []).append(index)
    parts = [f"/{step}[{child.predicate()}]" for step, child in root.children.items()]
    parts += [f"({b})[({f}) and {_hit_call(indexes)}]" for (b, f), indexes in loose.items()]
    return " or ".join(f"boolean({p})" for p in parts)


def _hit_call(indexes: Sequence[int]) -> str:
    return f"{HIT_PREFIX}:hit('{' '.join(map(str, dict.fromkeys(indexes)))}')"


def _branches(context: str) -> list[str]:
    """The branches of a union at its top level (``a | b``), brackets and quotes respected."""
    return [branch.strip() for branch in _split_top(context, "|")]
