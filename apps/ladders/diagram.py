"""A ladder drawn as a flowchart (SVG, made on the server), with the same content as text for screen readers.

Layout, in the spirit of the source flowcharts (seed 000, Zuid-Limburg): the decision "which category?" at the
top, one column per category (its branch), steps in layers so that every step sits below the steps that lead to
it, steps reached from several branches in a shared column on the right. Forward transitions run down; a
transition back up the ladder is drawn as a curve on the right of the box. Final steps have a double border,
the current step of an escalation a thick border and the words "huidige stap" (never colour alone).

``ladder_diagram`` returns the SVG and the text alternative; ``frontend/templates/ladders/_diagram.html``
renders both, the SVG with ``role="img"`` and ``aria-labelledby``/``aria-describedby`` pointing at the text.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from apps.ladders.schema import LadderSpec, MoveToStep
from core.formatting import readable_key

BOX_WIDTH = 230
LINE_HEIGHT = 16
PADDING = 10
COLUMN_GAP = 40
ROW_GAP = 56
MARGIN = 20
HEADER_HEIGHT = 110  # the decision diamond and the category titles
WRAP = 30  # characters per line in a box

INK = "#1a1a1a"
CURRENT = "#00468c"
FINAL_FILL = "#eef3f8"


@dataclass(frozen=True)
class TextStep:
    key: str
    title: str
    final: bool
    current: bool
    terms: list[str]
    next_titles: list[str]
    starts: list[str]  # categories that start here


@dataclass
class Diagram:
    id: str
    title: str
    svg: Markup
    steps: list[TextStep] = field(default_factory=list)
    free_order: bool = False
    current_title: str = ""


@dataclass
class _Box:
    key: str
    lines: list[str]
    final: bool
    current: bool
    column: int = 0
    rank: int = 0
    x: float = 0
    y: float = 0
    height: float = 0


def _edges(spec: LadderSpec) -> list[tuple[str, str]]:
    """Transitions that the ladder lists (``next``) and automatic moves (``move_to_step``), each once."""
    found: list[tuple[str, str]] = []
    for step in spec.steps:
        targets = [*step.next]
        targets += [a.step for a in step.on_enter if isinstance(a, MoveToStep)]
        targets += [a.step for t in step.terms for a in t.on_missed if isinstance(a, MoveToStep)]
        for target in targets:
            if (step.key, target) not in found:
                found.append((step.key, target))
    return found


def _reach(start: str, edges: list[tuple[str, str]]) -> set[str]:
    seen, frontier = set(), [start]
    while frontier:
        key = frontier.pop()
        if key not in seen:
            seen.add(key)
            frontier.extend(t for s, t in edges if s == key)
    return seen


def _layers(spec: LadderSpec, edges: list[tuple[str, str]]) -> tuple[dict[str, int], set[tuple[str, str]]]:
    """Layer per step (longest path from a start over forward edges) and the edges that point back."""
    order = {step.key: index for index, step in enumerate(spec.steps)}
    starts = [c.start_step for c in spec.categories]
    back: set[tuple[str, str]] = set()
    state: dict[str, str] = {}

    def visit(key: str) -> None:  # depth-first: an edge to a step still on the stack points back
        state[key] = "open"
        for source, target in edges:
            if source != key:
                continue
            if state.get(target) == "open":
                back.add((source, target))
            elif target not in state:
                visit(target)
        state[key] = "done"

    for key in [*starts, *order]:
        if key not in state:
            visit(key)
    forward = [e for e in edges if e not in back]
    rank = {key: 0 for key in order}
    for _ in range(len(order)):  # relax: at most one pass per step in a DAG
        changed = False
        for source, target in forward:
            if rank[target] < rank[source] + 1:
                rank[target] = rank[source] + 1
                changed = True
        if not changed:
            break
    return rank, back


def ladder_diagram(spec: LadderSpec, *, current: str | None = None, diagram_id: str = "ladder-diagram") -> Diagram:
    edges = _edges(spec)
    titles = {step.key: step.title for step in spec.steps}
    free = spec.order == "free"
    categories = spec.categories
    reach = [_reach(c.start_step, edges) for c in categories]
    rank, back = _layers(spec, edges)

    boxes: dict[str, _Box] = {}
    for step in spec.steps:
        lines = textwrap.wrap(step.title, WRAP)[:4] or [step.key]
        lines += [f"termijn: {t.term}" for t in step.terms][:2]
        if step.final:
            lines.append("eindstap" + (f": {readable_key(step.outcome)}" if step.outcome else ""))
        if step.key == current:
            lines.insert(0, "▶ huidige stap")
        branches = [i for i, r in enumerate(reach) if step.key in r]
        column = branches[0] if len(branches) == 1 else len(categories)
        boxes[step.key] = _Box(step.key, lines, step.final, step.key == current, column, rank[step.key])

    columns = sorted({b.column for b in boxes.values()})
    # Cells: several steps in one column and layer stand side by side.
    cells: dict[tuple[int, int], list[_Box]] = {}
    for box in boxes.values():
        cells.setdefault((box.column, box.rank), []).append(box)
    width_of = {c: max(len(v) for (col, _), v in cells.items() if col == c) for c in columns}
    x_of_column, x = {}, MARGIN
    for c in columns:
        x_of_column[c] = x
        x += width_of[c] * (BOX_WIDTH + COLUMN_GAP)
    total_width = x - COLUMN_GAP + MARGIN + 60  # room for curves back up on the right
    ranks = sorted({b.rank for b in boxes.values()})
    y = MARGIN + HEADER_HEIGHT
    for r in ranks:
        in_rank = [b for b in boxes.values() if b.rank == r]
        row_height = max(PADDING * 2 + LINE_HEIGHT * len(b.lines) for b in in_rank)
        for (c, rr), members in cells.items():
            if rr != r:
                continue
            for slot, box in enumerate(members):
                box.x = x_of_column[c] + slot * (BOX_WIDTH + COLUMN_GAP)
                box.y = y
                box.height = row_height
        y += row_height + ROW_GAP
    total_height = y - ROW_GAP + MARGIN

    title = f"Stroomschema van de ladder {spec.name}"
    parts: list[str] = [
        f'<defs><marker id="{diagram_id}-pijl" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        f'markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="{INK}"/></marker></defs>'
    ]
    # The decision at the top: which category (seed 000: "Stel categorie vast in kader van DVO").
    centre = total_width / 2
    top = MARGIN + 4
    diamond = f"{centre},{top} {centre + 120},{top + 30} {centre},{top + 60} {centre - 120},{top + 30}"
    parts.append(f'<polygon points="{diamond}" fill="#ffffff" stroke="{INK}" stroke-width="1.5"/>')
    decision = "Stel categorie vast" if len(categories) > 1 else "Start"
    parts.append(_text(centre, top + 27, [decision], anchor="middle", bold=True))
    for category in categories:
        start = boxes.get(category.start_step)
        if start is None:
            continue
        sx, sy = start.x + BOX_WIDTH / 2, start.y
        label_lines = textwrap.wrap(category.title, 34)[:2]
        label_y = top + 72
        parts.append(
            f'<path d="M {centre} {top + 60} C {centre} {label_y + 10}, {sx} {label_y - 10}, {sx} {sy - 2}" '
            f'fill="none" stroke="{INK}" stroke-width="1.5" marker-end="url(#{diagram_id}-pijl)"/>'
        )
        parts.append(_text(sx + 6, label_y + 8, label_lines, size=11, italic=True, halo=True))
    for source, target in edges:
        a, b = boxes[source], boxes[target]
        if (source, target) in back or b.rank <= a.rank:
            x1, y1 = a.x + BOX_WIDTH, a.y + a.height / 2
            x2, y2 = b.x + BOX_WIDTH, b.y + b.height / 2
            bulge = max(x1, x2) + 40
            d = f"M {x1} {y1} C {bulge} {y1}, {bulge} {y2}, {x2 + 2} {y2}"
            dash = ' stroke-dasharray="6 4"'
        else:
            x1, y1 = a.x + BOX_WIDTH / 2, a.y + a.height
            x2, y2 = b.x + BOX_WIDTH / 2, b.y
            d = f"M {x1} {y1} C {x1} {y1 + 30}, {x2} {y2 - 30}, {x2} {y2 - 2}"
            dash = ""
        parts.append(
            f'<path d="{d}" fill="none" stroke="{INK}" stroke-width="1.2"{dash} marker-end="url(#{diagram_id}-pijl)"/>'
        )
    for box in boxes.values():
        stroke = CURRENT if box.current else INK
        stroke_width = 4 if box.current else 1.5
        fill = FINAL_FILL if box.final else "#ffffff"
        parts.append(
            f'<rect x="{box.x}" y="{box.y}" width="{BOX_WIDTH}" height="{box.height}" rx="8" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{stroke_width}"/>'
        )
        if box.final:  # a double border marks the end of the ladder
            parts.append(
                f'<rect x="{box.x + 4}" y="{box.y + 4}" width="{BOX_WIDTH - 8}" height="{box.height - 8}" rx="6" '
                f'fill="none" stroke="{stroke}" stroke-width="1"/>'
            )
        parts.append(_text(box.x + PADDING, box.y + PADDING + 12, box.lines, bold_first=box.current, key=box.key))
    svg = Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="trede-diagram__svg" viewBox="0 0 {total_width:.0f} '
        f'{total_height:.0f}" width="{total_width:.0f}" height="{total_height:.0f}" role="img" '
        f'aria-labelledby="{diagram_id}-titel" aria-describedby="{diagram_id}-tekst" focusable="false">'
        + "".join(parts)
        + "</svg>"
    )
    starts: dict[str, list[str]] = {}
    for category in categories:
        starts.setdefault(category.start_step, []).append(category.title)
    text_steps = [
        TextStep(
            key=step.key,
            title=step.title,
            final=step.final,
            current=step.key == current,
            terms=[f"{t.title or t.key}: {t.term}" for t in step.terms],
            next_titles=[titles.get(t, t) for s, t in edges if s == step.key],
            starts=starts.get(step.key, []),
        )
        for step in spec.steps
    ]
    return Diagram(
        id=diagram_id,
        title=title,
        svg=svg,
        steps=text_steps,
        free_order=free,
        current_title=titles.get(current or "", ""),
    )


def _text(
    x: float,
    y: float,
    lines: list[str],
    *,
    anchor: str = "start",
    size: int = 13,
    bold: bool = False,
    bold_first: bool = False,
    italic: bool = False,
    key: str = "",
    halo: bool = False,
) -> str:
    attributes = f'font-family="sans-serif" font-size="{size}" fill="{INK}" text-anchor="{anchor}"'
    if bold:
        attributes += ' font-weight="bold"'
    if italic:
        attributes += ' font-style="italic"'
    if halo:  # a white outline keeps the words readable where a line crosses them
        attributes += ' stroke="#ffffff" stroke-width="4" paint-order="stroke"'
    if key:
        attributes += f' data-step="{escape(key)}"'
    spans = []
    for index, line in enumerate(lines):
        weight = ' font-weight="bold"' if bold_first and index == 0 else ""
        dy = 0 if index == 0 else LINE_HEIGHT
        spans.append(f'<tspan x="{x}" dy="{dy}"{weight}>{escape(line)}</tspan>')
    return f'<text x="{x}" y="{y}" {attributes}>{"".join(spans)}</text>'
