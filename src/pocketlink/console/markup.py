"""The pieces pages are made of, as HTML text: every value that came from the API passes
through ``esc``. Tables have a caption and ``<th scope>``; every field has a ``<label>``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from html import escape
from typing import Any

from botocore.exceptions import ClientError

ROOT = "/_pocketlink/console"


def esc(value: Any) -> str:
    return escape("" if value is None else str(value))


def url(path: str) -> str:
    return f"{ROOT}/{path}"


def link(path: str, text: Any) -> str:
    return f'<a href="{esc(url(path))}">{esc(text)}</a>'


def name_tag(resource: dict) -> str:
    return next((t["Value"] for t in resource.get("Tags", []) if t.get("Key") == "Name"), "")


def when(moment: Any) -> str:
    """A time as AWS's consoles write it: December 1, 2026, 11:18:03 (UTC+00:00)."""
    if not isinstance(moment, datetime):
        return dash(moment)
    offset = moment.strftime("%z") or "+0000"
    return esc(f"{moment:%B} {moment.day}, {moment:%Y, %H:%M:%S} "
               f"(UTC{offset[:3]}:{offset[3:]})")


def dash(value: Any) -> str:
    """A value, or AWS's dash for none."""
    return esc(value) if value not in (None, "", []) else "&ndash;"


def table(caption: str, headers: Sequence[str], rows: Iterable[Sequence[str]], *,
          empty: str = "No resources found", live: str = "", settled: str = "") -> str:
    """``rows`` are HTML already (cells made with ``esc``/``link``); the first column is
    each row's header. ``live``: the URL whose statuses the page's script polls (see
    ``live_region``)."""
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in headers)
    body = []
    for row in rows:
        cells = [f'<th scope="row">{row[0]}</th>', *(f"<td>{cell}</td>" for cell in row[1:])]
        body.append(f"<tr>{''.join(cells)}</tr>")
    count = f' <span class="count">({len(body)})</span>'
    if not body:
        body.append(f'<tr><td colspan="{len(headers)}" class="empty">{esc(empty)}</td></tr>')
    live_attr = _live_attributes(live, settled)
    return (f'<table{live_attr}><caption>{esc(caption)}{count}</caption>'
            f'<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>')


def live_region(content: str, live: str, settled: str = "") -> str:
    """``content`` whose status badges the page's script keeps current from ``live``
    (a JSON object of key -> state), asking it only of the badges whose state is not one
    of ``settled`` (space-separated; empty: every badge, every time)."""
    return f"<div{_live_attributes(live, settled)}>{content}</div>"


def _live_attributes(live: str, settled: str) -> str:
    if not live:
        return ""
    return f' data-live="{esc(live)}"' + (f' data-settled="{esc(settled)}"' if settled else "")


def details(pairs: Iterable[tuple[str, str]], title: str = "Details") -> str:
    """Label and value pairs (values are HTML already), as AWS's details panel."""
    items = "".join(f'<div><dt>{esc(k)}</dt><dd>{v}</dd></div>' for k, v in pairs)
    return f'<section class="panel"><h2>{esc(title)}</h2><dl class="details">{items}</dl></section>'


def status(state: str, key: str = "") -> str:
    """A resource's state as a badge; ``key`` (the resource's id) lets the page's script
    update it from the live URL (aria-live announces the change)."""
    keyed = f' data-status-key="{esc(key)}"' if key else ""
    return (f'<span class="status status-{esc(state)}" aria-live="polite"{keyed}>'
            f'{esc(state)}</span>')


def copy_button(text: str, what: str = "") -> str:
    label = f"Copy {what}".strip()
    return (f'<button type="button" class="copy" data-copy="{esc(text)}" '
            f'aria-label="{esc(label)}: {esc(text)}" hidden>Copy</button>')


def copyable(text: str, what: str = "") -> str:
    return f'<code>{esc(text)}</code> {copy_button(text, what)}'


def error_flash(error: ClientError | str) -> str:
    """An API error as the AWS console shows it: a red flash with the code and message."""
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code, message = details.get("Code", "Error"), details.get("Message", str(error))
        text = f"<strong>{esc(code)}</strong>: {esc(message)}"
    else:
        text = esc(error)
    return f'<div class="flash flash-error" role="alert">{text}</div>'


def success_flash(text: str) -> str:
    return f'<div class="flash flash-success" role="status">{esc(text)}</div>'


def tabs(base: str, current: str, names: Sequence[tuple[str, str]]) -> str:
    """Tabs as links (``?tab=``): each one a page of its own, reachable by keyboard."""
    items = []
    for key, label in names:
        here = ' aria-current="page" class="current"' if key == current else ""
        items.append(f'<li><a href="{esc(url(base))}?tab={esc(key)}"{here}>{esc(label)}</a></li>')
    return f'<nav class="tabs" aria-label="Tabs"><ul>{"".join(items)}</ul></nav>'


def actions(*buttons: str) -> str:
    return f'<div class="actions">{"".join(buttons)}</div>'


def button_link(path: str, text: str, primary: bool = False) -> str:
    kind = "button primary" if primary else "button"
    return f'<a class="{kind}" href="{esc(url(path))}">{esc(text)}</a>'


# --- forms -----------------------------------------------------------------------------
def form(action: str, *fields: str, submit: str = "", method: str = "post",
         label: str = "") -> str:
    named = f' aria-label="{esc(label)}"' if label else ""
    button = f'<button type="submit" class="primary">{esc(submit)}</button>' if submit else ""
    return (f'<form method="{method}" action="{esc(url(action))}"{named}>'
            f'{"".join(fields)}{button}</form>')


def text_field(name: str, label: str, value: str = "", *, hint: str = "",
               required: bool = False, placeholder: str = "", kind: str = "text",
               filters: str = "") -> str:
    """``filters``: the name of the choices (``choices``) the page's script hides as the
    user types here, those whose label does not contain the text."""
    ident = f"f-{name}"
    hinted = f'<p class="hint" id="{ident}-hint">{esc(hint)}</p>' if hint else ""
    described = f' aria-describedby="{ident}-hint"' if hint else ""
    shown = f' placeholder="{esc(placeholder)}"' if placeholder else ""
    shown += f' data-filters="{esc(filters)}"' if filters else ""
    return (f'<div class="field"><label for="{ident}">{esc(label)}</label>{hinted}'
            f'<input type="{kind}" id="{ident}" name="{esc(name)}" value="{esc(value)}"'
            f'{" required" if required else ""}{described}{shown}></div>')


def textarea(name: str, label: str, value: str = "", rows: int = 8, hint: str = "") -> str:
    ident = f"f-{name}"
    hinted = f'<p class="hint" id="{ident}-hint">{esc(hint)}</p>' if hint else ""
    described = f' aria-describedby="{ident}-hint"' if hint else ""
    return (f'<div class="field"><label for="{ident}">{esc(label)}</label>{hinted}'
            f'<textarea id="{ident}" name="{esc(name)}" rows="{rows}"{described}>'
            f'{esc(value)}</textarea></div>')


def select(name: str, label: str, options: Sequence[tuple[str, str]], chosen: str = "",
           *, refresh: str = "") -> str:
    """``refresh``: the value of the form's ``step`` button that the page's script presses
    on a change (without script, the user presses it)."""
    ident = f"f-{name}"
    items = "".join(f'<option value="{esc(v)}"{" selected" if v == chosen else ""}>{esc(t)}</option>'
                    for v, t in options)
    pressing = f' data-refresh="{esc(refresh)}"' if refresh else ""
    return (f'<div class="field"><label for="{ident}">{esc(label)}</label>'
            f'<select id="{ident}" name="{esc(name)}"{pressing}>{items}</select></div>')


def choices(name: str, legend: str, options: Sequence[tuple[str, str]], chosen: Iterable[str],
            *, kind: str = "checkbox", hint: str = "", refresh: str = "", scroll: bool = False
            ) -> str:
    """Checkboxes (or radios) in a fieldset, each with its own label (``text`` is HTML);
    ``refresh`` as for ``select``; ``scroll``: a long list in a box of its own height."""
    picked = set(chosen)
    pressing = f' data-refresh="{esc(refresh)}"' if refresh else ""
    items = []
    for n, (value, text) in enumerate(options):
        ident = f"f-{name}-{n}"
        items.append(f'<div class="choice"><input type="{kind}" id="{ident}" name="{esc(name)}" '
                     f'value="{esc(value)}"{" checked" if value in picked else ""}{pressing}>'
                     f'<label for="{ident}">{text}</label></div>')
    if not items:
        items.append('<p class="empty">None</p>')
    hinted = f'<p class="hint">{esc(hint)}</p>' if hint else ""
    listed = f'<div class="scroll">{"".join(items)}</div>' if scroll else "".join(items)
    return f'<fieldset><legend>{esc(legend)}</legend>{hinted}{listed}</fieldset>'


def hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{esc(name)}" value="{esc(value)}">'


def submit(text: str, name: str = "", value: str = "", primary: bool = False) -> str:
    named = f' name="{esc(name)}" value="{esc(value)}"' if name else ""
    kind = ' class="primary"' if primary else ""
    return f'<button type="submit"{named}{kind}>{esc(text)}</button>'
