"""Flame graphs and cost tables from py-spy's collapsed stacks (``py-spy record -f raw``).

A line of the raw format is ``frame;frame;...;frame COUNT`` (outermost first). :func:`svg` draws them as a
flame graph (a self-contained SVG, hover shows frame and share); :func:`top_frames` lists the frames with
the largest inclusive share, the costs per message to name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

WIDTH = 1600
ROW = 16


def stacks(path: Path, keep: str | None = None) -> Iterator[tuple[list[str], int]]:
    """The stacks of a raw file; ``keep``: only those with a frame containing this text (the main thread)."""
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        frames = stack.split(";")
        if keep is None or any(keep in f for f in frames):
            yield frames, int(n)


@dataclass
class _Node:
    count: int = 0
    children: dict[str, _Node] = field(default_factory=dict)


def _tree(samples: Iterable[tuple[list[str], int]]) -> _Node:
    root = _Node()
    for frames, n in samples:
        root.count += n
        node = root
        for frame in frames:
            node = node.children.setdefault(frame, _Node())
            node.count += n
    return root


def svg(samples: Iterable[tuple[list[str], int]], title: str) -> str:
    """A flame graph of the samples as SVG text."""
    root = _tree(samples)
    total = max(root.count, 1)
    rects: list[str] = []
    depth_max = 0

    def draw(node: _Node, name: str, x: float, depth: int) -> None:
        nonlocal depth_max
        width = node.count / total * WIDTH
        if width < 0.5:
            return
        depth_max = max(depth_max, depth)
        label = escape(name)
        share = node.count / total
        hue = 10 + (hash(name.split(" ")[0]) % 50)
        text = escape(name.split(" (")[0])[: int(width / 7)] if width > 30 else ""
        rects.append(
            f'<g><title>{label} ({share:.1%})</title><rect x="{x:.1f}" y="-{(depth + 1) * ROW}" '
            f'width="{width:.1f}" height="{ROW - 1}" fill="hsl({hue},80%,60%)"/>'
            f'<text x="{x + 2:.1f}" y="-{depth * ROW + 4}">{text}</text></g>'
        )
        offset = x
        for child_name, child in sorted(node.children.items()):
            draw(child, child_name, offset, depth + 1)
            offset += child.count / total * WIDTH

    offset = 0.0
    for name, child in sorted(root.children.items()):
        draw(child, name, offset, 0)
        offset += child.count / total * WIDTH
    height = (depth_max + 3) * ROW
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 -{height - ROW} {WIDTH} {height}" font-family="monospace" font-size="11">'
        f'<text x="4" y="-{height - 2 * ROW}">{escape(title)} ({total} samples)</text>'
        + "".join(rects)
        + "</svg>\n"
    )


def top_frames(samples: Iterable[tuple[list[str], int]], n: int = 25) -> list[tuple[str, float, float]]:
    """The ``n`` frames with the largest inclusive share: (frame, inclusive share, own share)."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for frames, count in samples:
        total += count
        for frame in dict.fromkeys(frames):  # a recursive frame counts once per sample
            inclusive[frame] += count
        own[frames[-1]] += count
    total = max(total, 1)
    return [(f, c / total, own[f] / total) for f, c in inclusive.most_common(n)]
