"""The window's one action table: text (with its menu mnemonic), shortcut, icon, tip.

Every action of the main window and of the job UI is made here from ``ACTIONS``, so a
shortcut is bound once (``shortcut_clashes`` finds any two actions that share one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

K = QKeySequence.StandardKey
Key = str | QKeySequence.StandardKey


@dataclass(frozen=True)
class ActionSpec:
    """One action: ``text`` carries its mnemonic (``"&Save"``)."""

    text: str
    key: Key | None = None
    icon: str = ""
    tip: str = ""


ACTIONS: dict[str, ActionSpec] = {
    # File
    "new": ActionSpec("&New cell design", K.New, "new", "Start a new cell design"),
    "new_stack": ActionSpec("New block &stack", None, "stack", "Start a new block stack"),
    "open": ActionSpec("&Open…", K.Open, "open", "Open a design file"),
    "save": ActionSpec("&Save", K.Save, "save", "Save the design"),
    "save_as": ActionSpec("Save &As…", K.SaveAs, "save-as", "Save the design under a new name"),
    "import": ActionSpec("&Import…", "Ctrl+I", "import",
                         "Paste a Genotype, NAS-Bench-201 string or block strings"),
    "export_design": ActionSpec("E&xport design…", "Ctrl+Shift+E", "export",
                                "Write the design as JSON or text"),
    "close": ActionSpec("&Close tab", K.Close, "", "Close the current design"),
    "quit": ActionSpec("&Quit", K.Quit, "", "Quit NAS Studio"),
    # Edit (undo/redo come from the QUndoGroup; their prefixes live here too)
    "undo": ActionSpec("&Undo", K.Undo, "undo"),
    "redo": ActionSpec("&Redo", K.Redo, "redo"),
    "copy": ActionSpec("&Copy", K.Copy, "copy", "Copy the selected nodes"),
    "paste": ActionSpec("&Paste", K.Paste, "paste", "Paste copied nodes"),
    "delete": ActionSpec("&Delete", K.Delete, "delete", "Delete the selection"),
    "select_all": ActionSpec("Select &all", K.SelectAll, "", "Select every node and edge"),
    "choose_op": ActionSpec("C&hange op…", "F2", "",
                            "Choose the op of the selected edge or block (Enter on the canvas)"),
    "apply_op": ActionSpec("Apply palette op to se&lection", "Ctrl+Return", "",
                           "Give the selected edges or stages the op highlighted in the palette"),
    "prefs": ActionSpec("Pr&eferences…", K.Preferences, "preferences"),
    # View
    "zoom_in": ActionSpec("Zoom i&n", K.ZoomIn, "zoom-in"),
    "zoom_out": ActionSpec("Zoom &out", K.ZoomOut, "zoom-out"),
    "fit": ActionSpec("&Fit to window", "Ctrl+0", "fit", "Show the whole design"),
    "layout": ActionSpec("Auto-&layout", "Ctrl+L", "layout", "Arrange nodes by DAG generation"),
    # Run (the job UI)
    "run.train": ActionSpec("&Train current design…", "Ctrl+T", "",
                            "Train the open design on a dataset (digits is built in)"),
    "run.search": ActionSpec("&Search…", "Ctrl+Shift+R", "", "Search a space of architectures"),
    "run.compress": ActionSpec("&Compress run…", None, "", "Prune and/or quantize a trained run"),
    "run.export": ActionSpec("&Export run…", "Ctrl+E", "",
                             "Export a trained run to ONNX, TorchScript or a bundle"),
    "run.fork": ActionSpec("&Fork to edit", "Ctrl+Shift+F", "",
                           "Open an editable copy of the current design"),
    "run.cancel": ActionSpec("Cancel &all jobs", None, "",
                             "Stop the running job and drop the queued ones"),
}


def plain(text: str) -> str:
    """Menu text without its mnemonic marker (``"Save &As…"`` -> ``"Save As…"``)."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def key_sequences(key: Key | None) -> list[QKeySequence]:
    """Every binding of a key: a standard key may have several (Redo: Ctrl+Shift+Z, Ctrl+Y)."""
    if key is None:
        return []
    if isinstance(key, QKeySequence.StandardKey):
        return list(QKeySequence.keyBindings(key))
    return [QKeySequence(key)]


def shortcut_text(key: Key | None) -> str:
    seqs = key_sequences(key)
    return seqs[0].toString(QKeySequence.SequenceFormat.NativeText) if seqs else ""


def decorate(act: QAction, name: str) -> QAction:
    """Give an existing action (undo/redo) the table's shortcut and tip."""
    spec = ACTIONS[name]
    act.setShortcuts(key_sequences(spec.key))
    act.setObjectName(f"action-{name}")
    act.setProperty("icon_name", spec.icon)
    return act


def make_action(parent: QWidget, name: str, slot: Callable[[], object]) -> QAction:
    """The action ``name`` of the table, triggering ``slot``."""
    from app import style

    spec = ACTIONS[name]
    act = QAction(style.icon(spec.icon), spec.text, parent)
    decorate(act, name)
    keys = shortcut_text(spec.key)
    label = plain(spec.text)
    act.setToolTip(f"{label} ({keys})" if keys else label)
    act.setStatusTip(spec.tip or label)
    act.triggered.connect(lambda _checked=False: slot())
    return act


def shortcut_clashes(actions: Iterable[QAction]) -> dict[str, list[str]]:
    """Shortcuts bound by more than one action: ``{"Ctrl+E": [texts...]}``."""
    seen: dict[str, list[str]] = {}
    for act in dict.fromkeys(actions):   # the same action in a menu and a toolbar is one
        for seq in act.shortcuts():
            if not seq.isEmpty():
                seen.setdefault(seq.toString(), []).append(plain(act.text()))
    return {k: v for k, v in seen.items() if len(v) > 1}


def mnemonic(text: str) -> str:
    """The mnemonic letter of a menu text (lower case), or ``""``."""
    i = text.replace("&&", "").find("&")
    clean = text.replace("&&", "")
    return clean[i + 1].lower() if 0 <= i < len(clean) - 1 else ""


def add_mnemonic(text: str, used: set[str]) -> str:
    """``text`` with a mnemonic not in ``used`` (word starts first), recorded in ``used``."""
    if mnemonic(text):
        used.add(mnemonic(text))
        return text
    starts = [i for i, c in enumerate(text) if c.isalnum() and (i == 0 or text[i - 1] == " ")]
    rest = [i for i, c in enumerate(text) if c.isalnum() and i not in starts]
    for i in [*starts, *rest]:
        if text[i].lower() not in used:
            used.add(text[i].lower())
            return text[:i] + "&" + text[i:]
    return text
