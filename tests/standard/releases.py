"""Build a fake other release (e.g. iJw 3.1) from the project's 3.2 schemas, in a temporary directory."""

from __future__ import annotations

import re
from pathlib import Path

from .conftest import ROOT

SOURCE = ROOT / "schemas" / "ijw" / "3_2"
_SUBVERSIE = re.compile(r'(name="BerichtSubversie".*?<xs:pattern value=")2(")', re.S)


def fake_release(target: Path, minor: str, codes: dict[str, str] | None = None) -> Path:
    """Copy iJw 3.2 as release 3.<minor>: namespaces, appinfo release and BerichtSubversie changed,
    and optionally some BerichtCodes (``{"jw319": "588"}``)."""
    target.mkdir(parents=True, exist_ok=True)
    for path in SOURCE.glob("*.xsd"):
        text = path.read_text(encoding="utf-8")
        text = text.replace("/ijw/3_2/", f"/ijw/3_{minor}/").replace(">3.2</", f">3.{minor}</")
        text = _SUBVERSIE.sub(rf"\g<1>{minor}\g<2>", text)
        code = (codes or {}).get(path.stem)
        if code is not None:
            text = re.sub(
                r'(name="BerichtCode".*?<xs:pattern value=")\d+(")',
                rf"\g<1>{code}\g<2>",
                text,
                count=1,
                flags=re.S,
            )
        (target / path.name).write_text(text, encoding="utf-8")
    return target


def as_release(message: bytes, minor: str, code: str | None = None) -> bytes:
    """An iJw 3.2 message rewritten to release 3.<minor> (and another BerichtCode)."""
    out = message.replace(b"/ijw/3_2/", b"/ijw/3_%s/" % minor.encode())
    out = re.sub(rb"(BerichtSubversie>)2(<)", rb"\g<1>" + minor.encode() + rb"\g<2>", out)
    if code is not None:
        out = re.sub(rb"(BerichtCode>)\d+(<)", rb"\g<1>" + code.encode() + rb"\g<2>", out)
    return out
