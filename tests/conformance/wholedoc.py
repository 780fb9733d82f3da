"""Candidate changes to a whole message: header codes, namespaces (release, message, standard) and the
document around the content (prefixes, declaration, whitespace, comments, root). Byte- or text-level
where the change is about the serialisation itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator

from lxml import etree

from .candidates import FOREIGN_NS, XSI_NS, Candidate, set_text, tree_builder

# BerichtCode per message, from the iStandaarden iJw 3.2 / iWmo 3.2 releases (independent of schemas/).
CODES: dict[str, str] = {
    "JW301": "436", "JW302": "437", "JW305": "438", "JW306": "439", "JW307": "440", "JW308": "441",
    "JW315": "446", "JW316": "447", "JW317": "486", "JW318": "487", "JW319": "488", "JW320": "489",
    "JW323": "490", "JW325": "491",
    "WMO301": "414", "WMO302": "415", "WMO305": "418", "WMO306": "419", "WMO307": "420", "WMO308": "421",
    "WMO315": "444", "WMO316": "445", "WMO317": "480", "WMO318": "481", "WMO319": "482", "WMO320": "483",
    "WMO323": "484", "WMO325": "485",
}  # fmt: skip


def header_candidates(
    name: str, data: bytes, root: etree._Element, judged: Collection[str] | None
) -> Iterator[Candidate]:
    header = root[0] if len(root) and etree.QName(root[0]).localname == "Header" else None
    ns = etree.QName(root).namespace or ""
    if header is not None:
        index_of = {el: i for i, el in enumerate(el for el in root.iter() if isinstance(el.tag, str))}

        def field_builder(local: str, value: str) -> Callable[[], bytes]:
            target = header.find(f"{{{ns}}}{local}")
            assert target is not None
            return tree_builder(root, index_of[target], set_text(value))

        for other, code in CODES.items():
            if other != name:
                yield Candidate(
                    name,
                    f"berichtcode={code}",
                    "/Bericht/Header/BerichtCode",
                    field_builder("BerichtCode", code),
                )
        for variant in ("0" + CODES[name], CODES[name][:2], "abc", "999"):
            yield Candidate(
                name,
                f"berichtcode={variant}",
                "/Bericht/Header/BerichtCode",
                field_builder("BerichtCode", variant),
            )
        for local, variants in (
            ("BerichtVersie", ("2", "4", "03", "-3")),
            ("BerichtSubversie", ("0", "1", "3", "02")),
        ):
            for variant in variants:
                yield Candidate(
                    name,
                    f"{local.lower()}={variant}",
                    f"/Bericht/Header/{local}",
                    field_builder(local, variant),
                )

    def replacing(*pairs: tuple[bytes, bytes]) -> Callable[[], bytes]:
        def build() -> bytes:
            out = data
            for old, new in pairs:
                out = out.replace(old, new)
            return out

        return build

    standard, release = ns.split("/")[3], ns.split("/")[4]
    message_ns = ns.encode()
    basis_ns = f"http://www.istandaarden.nl/{standard}/{release}/basisschema/schema".encode()
    for other_release in ("3_0", "3_1", "3_3", "4_0"):
        rel = other_release.encode()
        yield Candidate(
            name, f"release={other_release}", "/Bericht", replacing((b"/3_2/", b"/" + rel + b"/"))
        )
        yield Candidate(name, f"release-message-only={other_release}", "/Bericht",
                         replacing((message_ns, message_ns.replace(b"/3_2/", b"/" + rel + b"/"))))  # fmt: skip
        yield Candidate(name, f"release-basis-only={other_release}", "/Bericht",
                         replacing((basis_ns, basis_ns.replace(b"/3_2/", b"/" + rel + b"/"))))  # fmt: skip
    for other in CODES:
        other_standard = "ijw" if other.startswith("JW") else "iwmo"
        if other == name:
            continue
        other_ns = f"http://www.istandaarden.nl/{other_standard}/3_2/{other.lower()}/schema".encode()
        if judged is not None and other_ns.decode() not in judged:
            continue
        if other_standard == standard:
            yield Candidate(name, f"message-ns={other}", "/Bericht", replacing((message_ns, other_ns)))
        elif other[-3:] == name[-3:]:
            # the same message of the other standard: namespaces, prefixes and BerichtCode all swapped
            other_basis = f"http://www.istandaarden.nl/{other_standard}/3_2/basisschema/schema".encode()
            code_old = f"BerichtCode>{CODES[name]}<".encode()
            code_new = f"BerichtCode>{CODES[other]}<".encode()
            yield Candidate(name, f"standard-swap={other}", "/Bericht",
                             replacing((message_ns, other_ns), (basis_ns, other_basis), (code_old, code_new)))  # fmt: skip
            yield Candidate(name, f"standard-swap-keep-code={other}", "/Bericht",
                             replacing((message_ns, other_ns), (basis_ns, other_basis)))  # fmt: skip
    for kind, old, new in (
        ("ns=uppercase", message_ns, message_ns.upper()),
        ("ns=https", message_ns, message_ns.replace(b"http:", b"https:")),
        ("ns=trailing-slash", message_ns, message_ns + b"/"),
        ("ns=no-schema-suffix", message_ns, message_ns[: -len(b"/schema")]),
        ("ns=basis-uppercase", basis_ns, basis_ns.upper()),
    ):
        yield Candidate(name, kind, "/Bericht", replacing((old, new)))


def document_candidates(name: str, data: bytes, root: etree._Element) -> Iterator[Candidate]:
    """Whole-document changes that keep the content: prefixes, declaration, whitespace, root."""
    prefixes = {ns: prefix for prefix, ns in root.nsmap.items() if prefix}
    message_ns = etree.QName(root).namespace or ""
    msg_prefix = prefixes.get(message_ns, "")

    def build_text(transform: Callable[[str], str]) -> Callable[[], bytes]:
        return lambda: transform(data.decode("utf-8")).encode("utf-8")

    if msg_prefix:
        yield Candidate(name, "doc=default-namespace", "/Bericht", build_text(
            lambda t: t.replace(f"xmlns:{msg_prefix}=", "xmlns=").replace(f"<{msg_prefix}:", "<").replace(f"</{msg_prefix}:", "</")))  # fmt: skip
        yield Candidate(name, "doc=prefix-renamed", "/Bericht", build_text(
            lambda t: t.replace(f"xmlns:{msg_prefix}=", "xmlns:m=").replace(f"<{msg_prefix}:", "<m:").replace(f"</{msg_prefix}:", "</m:")))  # fmt: skip
        yield Candidate(name, "doc=unused-namespace-declared", "/Bericht", build_text(
            lambda t: t.replace(f"xmlns:{msg_prefix}=", f'xmlns:extra="{FOREIGN_NS}" xmlns:{msg_prefix}=', 1)))  # fmt: skip
    yield Candidate(
        name, "doc=no-declaration", "/Bericht", build_text(lambda t: t.split("?>", 1)[1].lstrip())
    )
    yield Candidate(name, "doc=declaration-lowercase-utf8", "/Bericht", build_text(lambda t: t.replace('encoding="UTF-8"', 'encoding="utf-8"', 1)))  # fmt: skip
    yield Candidate(name, "doc=standalone", "/Bericht", build_text(lambda t: t.replace('encoding="UTF-8"?>', 'encoding="UTF-8" standalone="yes"?>', 1)))  # fmt: skip
    yield Candidate(name, "doc=no-indentation", "/Bericht", build_text(lambda t: re.sub(r">\s+<", "><", t)))
    yield Candidate(name, "doc=crlf", "/Bericht", build_text(lambda t: t.replace("\n", "\r\n")))
    yield Candidate(
        name, "doc=trailing-comment", "/Bericht", build_text(lambda t: t.rstrip() + "\n<!-- einde -->\n")
    )
    yield Candidate(
        name,
        "doc=leading-comment",
        "/Bericht",
        build_text(lambda t: t.replace("?>", "?>\n<!-- begin -->", 1)),
    )
    yield Candidate(name, "doc=root-renamed", "/Bericht", build_text(
        lambda t: re.sub(r"(</?)([A-Za-z0-9]+:)?Bericht\b", r"\1\2Berichten", t)))  # fmt: skip
    yield Candidate(name, "doc=schemalocation-file-name", "/Bericht", build_text(
        lambda t: with_schema_location(t, f"{message_ns} {name.lower()}.xsd")))  # fmt: skip
    yield Candidate(name, "doc=second-root", "/Bericht", build_text(lambda t: t.rstrip() + "\n<Bericht/>\n"))


def with_schema_location(text: str, value: str) -> str:
    head = f' xmlns:xsi="{XSI_NS}" xsi:schemaLocation="{value}" '
    return re.sub(r"(<[A-Za-z0-9]*:?Bericht) ", lambda m: m.group(1) + head, text, count=1)
