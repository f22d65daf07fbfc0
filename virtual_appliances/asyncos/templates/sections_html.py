"""A tab's landing page: its menu groups as lists of links (pure HTML)."""

from __future__ import annotations

from .pages import Tab, esc


def section(tab: Tab) -> str:
    groups = []
    for group in tab.groups:
        items = "".join(
            f'<li><a href="{esc(i.href)}">{esc(i.label)}</a></li>' if i.href
            else f'<li class="muted">{esc(i.label)}</li>' for i in group.items
        )
        title = f"<h3>{esc(group.title)}</h3>" if group.title else ""
        groups.append(f"{title}<ul>{items}</ul>")
    return "".join(groups)
