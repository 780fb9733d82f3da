"""The standard message engine: bytes in, a frozen :class:`Header` out, or a Rejection carrying every error.

Order of the steps in :meth:`Engine.check`:

1. safe parse (:mod:`gateway.standard.safexml`): size, encoding, DTD, well-formedness, libxml2's own
   nesting cap of 256;
2. classify by root namespace (:mod:`gateway.standard.classify`);
3. XSD validation against exactly that message's schema, every error collected (StUF055 items, capped);
   a message without ``xsi:`` attributes is first validated against its release's shared schema (the
   same verdict, cheaper over a mix of messages), and only if that refuses against its own, whose errors
   are the ones reported;
4. header agreement: BerichtCode, BerichtVersie and BerichtSubversie against the namespace (IB240 items),
   read tolerantly of any structure. Only needed when validation failed or when the schema does not pin
   all three by pattern (the official and the project's schemas do: a valid message then agrees);
5. if step 4 found a mismatch: :class:`CodeMismatch` (IB240) carrying the IB240 items *and* the schema
   errors (the official XSDs pin the code by pattern, so a wrong code is a schema error too; the chain's
   answer for it is IB240); else schema errors: :class:`SchemaInvalid` (StUF055 / CC02);
6. the header value of a valid message;
7. content rules (:mod:`gateway.standard.rules`: the release's Schematron, TR/CD/CS), by ``mode``:
   ``refuse`` raises :class:`ContentRulesBroken` (BRS28 / StUF055) listing every broken rule, ``warn``
   returns the header with the findings in ``Header.findings``, ``off`` skips them.

The ``Limits.max_depth`` check (a few microseconds) runs before any refusal is raised, so a too-deep
message is always refused as :class:`TooDeep`; for a valid message it is skipped when the schema proves
that no valid instance can be that deep (:mod:`gateway.standard.xsdshape`).

Pure: no I/O after :meth:`Engine.load`. Safe to call from several threads (per-thread parsers and
validators, see :mod:`gateway.standard.registry`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from lxml import etree

from gateway.errors import CodeMismatch, ContentRulesBroken, ErrorItem, Rejection, SchemaInvalid, TooDeep
from gateway.standard.catalog import Catalog, MessageType
from gateway.standard.classify import Classifier, Known
from gateway.standard.errortext import MAX_ERRORS, schema_errors
from gateway.standard.header import Header
from gateway.standard.headerread import (
    code_errors,
    expected_header,
    first_dagtekening,
    fixed_plan,
    header_elements,
    read_header,
)
from gateway.standard.registry import REPO_SCHEMA_DIR, SchemaRegistry
from gateway.standard.rules import ContentRules, Mode
from gateway.standard.safexml import DEFAULT_LIMITS, Limits, check_depth_of, parse_noting_xsi

SCHEMA_ERROR = SchemaInvalid.code


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of checking one message, for callers that report rather than raise (CLI, tests)."""

    header: Header | None
    message: MessageType | None
    rejection: Rejection | None

    @property
    def valid(self) -> bool:
        return self.rejection is None

    @property
    def errors(self) -> tuple[ErrorItem, ...]:
        return self.rejection.errors if self.rejection is not None else ()

    @property
    def findings(self) -> tuple[ErrorItem, ...]:
        """Broken content rules of an accepted message (``warn`` mode)."""
        return self.header.findings if self.header is not None else ()


@dataclass(frozen=True, slots=True)
class Examined(Verdict):
    """A :class:`Verdict` with the content rules a schema-invalid message breaks as well (``findings``)."""

    extra: tuple[ErrorItem, ...] = ()

    @property
    def findings(self) -> tuple[ErrorItem, ...]:
        return self.extra


class Engine:
    """Checks messages against the installed releases and the catalogue."""

    def __init__(
        self,
        registry: SchemaRegistry,
        catalog: Catalog,
        limits: Limits = DEFAULT_LIMITS,
        rules: ContentRules | None = None,
        mode: Mode = "refuse",
    ) -> None:
        self.registry = registry
        self.catalog = catalog
        self.limits = limits
        self.rules = rules if rules is not None else ContentRules()
        self.mode: Mode = mode
        self.classifier = Classifier.build(registry, catalog)
        self._expected = {k.schema.namespace: expected_header(k) for k in self.classifier.known}
        # schemas that pin BerichtCode, BerichtVersie and BerichtSubversie by pattern: a valid message agrees
        self._pinned = frozenset(
            k.schema.namespace
            for k in self.classifier.known
            if None not in (k.schema.code, k.schema.versie, k.schema.subversie)
        )
        self._layouts = {k.schema.namespace: dict(k.schema.layout) for k in self.classifier.known}
        # where the header's fields sit in a valid message of our own parse, when the schema fixes them all
        self._plans = {
            k.schema.namespace: fixed_plan(self._layouts[k.schema.namespace], k.schema.declared)
            for k in self.classifier.known
        }
        # where the header read by its plan holds the date the rules' $dagtekening let reads (rules.check)
        self._dated = frozenset(
            ns
            for ns, plan in self._plans.items()
            if plan is not None and first_dagtekening(self._layouts[ns])
        )
        # messages whose header reading walks every Bsn element of their namespace (headerread._keys)
        self._keyed = frozenset(
            k.schema.namespace for k in self.classifier.known if "Bsn" in k.schema.declared
        )
        # messages whose every valid instance is provably within max_depth: no depth check once valid
        self._shallow = frozenset(
            k.schema.namespace
            for k in self.classifier.known
            if k.schema.max_depth is not None and k.schema.max_depth <= limits.max_depth
        )

    def __repr__(self) -> str:
        releases = sorted(self.registry.releases)
        return f"Engine(messages={len(self._expected)}, releases={releases}, content_rules={self.mode!r})"

    @classmethod
    def load(
        cls,
        schema_dirs: Sequence[Path] | None = None,
        catalog_path: Path | None = None,
        limits: Limits | None = None,
        mode: Mode = "refuse",
    ) -> Engine:
        """Index and compile the schemas and their content rules (default: the repository's ``schemas/``)
        and read the catalogue (default: ``schemas/catalog.toml``)."""
        dirs = list(schema_dirs) if schema_dirs is not None else [REPO_SCHEMA_DIR]
        registry = SchemaRegistry.from_dirs(dirs)
        catalog = Catalog.load(catalog_path if catalog_path is not None else REPO_SCHEMA_DIR / "catalog.toml")
        rules = ContentRules.from_dirs(dirs, (m.namespace for m in registry.messages))
        return cls(registry, catalog, limits if limits is not None else DEFAULT_LIMITS, rules, mode)

    def with_mode(self, mode: Mode) -> Engine:
        """This engine with another content-rules mode (same compiled schemas and rules)."""
        if mode == self.mode:
            return self
        return Engine(self.registry, self.catalog, self.limits, self.rules, mode)

    @property
    def messages(self) -> tuple[MessageType, ...]:
        """Every message this engine accepts (installed and catalogued)."""
        return tuple(k.type for k in self.classifier.known)

    def classify(self, root: etree._Element) -> MessageType:
        """The message type of a parsed root element, or NotStandardMessage / ReleaseNotSupported."""
        return self.classifier.classify(root).type

    def check(self, data: bytes) -> Header:
        """Safe parse, classify, validate and read the header of one message, or raise its Rejection."""
        # a message that may use the xsi namespace may carry xsi:type: its own schema judges it
        root, xsi = parse_noting_xsi(data, self.limits, check_depth=False)
        return self._check(root, self._classify(root), own_tree=True, shared=not xsi)

    def check_tree(self, root: etree._Element) -> Header:
        """As :meth:`check` for a root element already parsed (best by :func:`safexml.parse`)."""
        return self._check(root, self._classify(root), own_tree=False)

    def _classify(self, root: etree._Element) -> Known:
        try:
            return self.classifier.classify(root)
        except Rejection:
            check_depth_of(root, self.limits)  # too deep is the first reason to give
            raise

    def _check(self, root: etree._Element, known: Known, own_tree: bool, shared: bool = False) -> Header:
        """``shared``: the message holds no ``xsi:`` attribute, so its release's shared schema may say
        valid (cheaper over a mix of messages, see :mod:`gateway.standard.registry`); a refusal always
        comes from the message's own schema, its errors included."""
        namespace = known.schema.namespace
        release = self.registry.release_validator(namespace) if shared else None
        # the message's own schema only when the shared one did not say valid
        if (release is not None and release(root)) or (schema := self.registry.validator(namespace))(root):
            if namespace not in self._shallow:
                check_depth_of(root, self.limits)
            # our own parse holds elements only, so the schema's fixed indexes apply to it as they are
            plan = self._plans[namespace] if own_tree else None
            head = None
            if namespace not in self._pinned:  # a valid message of a pinning schema agrees by construction
                head = header_elements(root, namespace, self._layouts[namespace] if own_tree else None)
                mismatches = code_errors(head, known, self._expected[namespace])
                if mismatches:
                    raise CodeMismatch(_summary(CodeMismatch.title, len(mismatches)), errors=mismatches)
            elif plan is None:
                head = header_elements(root, namespace, self._layouts[namespace] if own_tree else None)
            # the text of every Bsn element, for the rules' 11-proof (see ContentRules.check)
            bsns: list[str] | None = [] if self.mode != "off" and namespace in self._keyed else None
            header = read_header(root, known, head, plan, bsns)
            if self.mode == "off":
                return header
            dated = plan is not None and namespace in self._dated
            findings = self.rules.check(namespace, root, header.dagtekening if dated else None, bsns)
            if not findings:
                return header
            items = [f.item(ContentRulesBroken.code) for f in findings[:MAX_ERRORS]]
            if self.mode == "refuse":
                title = f"{known.type.name} breaks content rules of the standard"
                raise ContentRulesBroken(_summary(title, len(findings)), errors=items)
            return header.with_findings(tuple(items))
        check_depth_of(root, self.limits)
        mismatches = code_errors(header_elements(root, namespace), known, self._expected[namespace])
        log = list(cast("Iterable[etree._LogEntry]", schema.error_log))
        found = schema_errors(log, SCHEMA_ERROR, root, cap=MAX_ERRORS - len(mismatches))
        total = len(log) + len(mismatches)
        if mismatches:
            raise CodeMismatch(_summary(CodeMismatch.title, total), errors=[*mismatches, *found])
        raise SchemaInvalid(_summary(f"{known.type.name} does not conform to its XSD", total), errors=found)

    def examine(self, data: bytes) -> Examined:
        """Everything this engine finds in one message, for the validation service: the verdict in this
        engine's mode (a ``ContentRulesBroken`` rejection when rules break, whatever the mode) and, when the
        XSD already refused it, the content rules judged on it all the same."""
        message: MessageType | None = None
        try:
            root, xsi = parse_noting_xsi(data, self.limits, check_depth=False)
            known = self._classify(root)
            message = known.type
        except Rejection as exc:
            return Examined(None, message, exc)
        try:
            header = self.with_mode("warn")._check(root, known, own_tree=True, shared=not xsi)
        except Rejection as exc:
            if isinstance(exc, TooDeep) or not isinstance(exc, SchemaInvalid | CodeMismatch):
                return Examined(None, message, exc)
            found = self.rules.check(known.schema.namespace, root)[:MAX_ERRORS]
            return Examined(None, message, exc, tuple(f.item(ContentRulesBroken.code) for f in found))
        if not header.findings:
            return Examined(header, message, None)
        title = _summary(f"{message.name} breaks content rules of the standard", len(header.findings))
        return Examined(header, message, ContentRulesBroken(title, errors=header.findings))

    def verdict(self, data: bytes) -> Verdict:
        """:meth:`check` without raising: the header, the message type (once classified) or the Rejection."""
        message: MessageType | None = None
        try:
            root, xsi = parse_noting_xsi(data, self.limits, check_depth=False)
            known = self._classify(root)
            message = known.type
            return Verdict(self._check(root, known, own_tree=True, shared=not xsi), message, None)
        except Rejection as exc:
            return Verdict(None, message, exc)


def _summary(title: str, total: int) -> str:
    shown = f", the first {MAX_ERRORS} listed" if total > MAX_ERRORS else ""
    return f"{title}: {total} error{'s' if total != 1 else ''}{shown}"
