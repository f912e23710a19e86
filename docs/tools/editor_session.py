"""A recorded editor session: yaml-language-server completing and checking a storyboard.

This is the evidence behind docs/editors.md ("the editor then completes shot keys … and marks a
misspelt key or a ``duration: 16``"). It drives the real language server that VS Code's YAML
extension, Neovim, Helix and Zed use, over stdio, the way an editor does:

1. ``grokreel schema -o storyboard.schema.json`` writes the schema into a scratch folder;
2. a storyboard beside it starts with ``# yaml-language-server: $schema=./storyboard.schema.json``;
3. the server is initialized, the storyboard opened, completions asked for (a new key in a shot,
   the value of ``resolution:`` and of ``kind:``) and the diagnostics it publishes collected;
4. the transcript goes to ``docs/editor-session.md`` and, with ``--png``, a picture of it as an
   editor would draw it goes to ``docs/editor-autocomplete.png`` (headless Chromium).

It installs nothing. Get the server once, anywhere outside the repository:

    npm install --prefix ~/.cache/grokreel-yaml-ls yaml-language-server
    GROKREEL_YAML_LS=~/.cache/grokreel-yaml-ls python docs/tools/editor_session.py --png

``--server`` (or ``GROKREEL_YAML_LS``) is that folder, or the ``yaml-language-server`` executable.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

HERE = Path(__file__).resolve()
REPO = HERE.parents[2]
ENV = "GROKREEL_YAML_LS"
INSTALL = "npm install --prefix <dir> yaml-language-server"
TIMEOUT = 20.0  # seconds for any one answer from the server

# The storyboard the "user" is typing. ⟨a⟩… mark where completion is asked (the mark is removed).
STORYBOARD = """\
# yaml-language-server: $schema=./storyboard.schema.json
title: A lighthouse keeper's night
defaults:
  resolution: 480p
  duration: 3
shots:
  storm:
    prompt: Wide shot of a lighthouse on a cliff in a storm, dusk
    durration: 4
  climb:
    prompt: The keeper climbs the spiral stairs, lantern swinging
    duration: 40
  lamp:
    ⟨a⟩
  beam:
    prompt: The beam sweeps across the sea
    resolution: ⟨b⟩
  dawn:
    video: beam
    prompt: Dawn over a calm sea
    kind: ⟨c⟩
cut: [storm, climb, beam, dawn]
"""
ASKS = {
    "a": "a new key inside shot `lamp`",
    "b": "the value of `resolution:` in shot `beam`",
    "c": "the value of `kind:` in shot `dawn`",
}
EXPECTED_BAD = {
    "durration": "a misspelt key (`durration` for `duration`)",
    "duration: 40": "an out-of-range duration (40 s; the API allows 1-15)",
}


# ----------------------------------------------------------------------------- results
@dataclass
class Completion:
    mark: str
    what: str
    line: int  # 0-based, as LSP counts
    column: int
    labels: list[str]
    details: dict[str, str] = field(default_factory=dict)  # label → its short documentation


@dataclass
class Diagnostic:
    line: int  # 0-based
    start: int
    end: int
    severity: str
    message: str
    source: str


@dataclass
class Session:
    server: str  # "yaml-language-server 1.25.0"
    node: str
    text: str  # the storyboard as opened (marks removed)
    completions: list[Completion]
    diagnostics: list[Diagnostic]
    config_asked: list[str]  # sections the server asked for with workspace/configuration
    validate: str = ""  # what `grokreel validate storyboard.yaml` said of the same file

    def labels(self, mark: str) -> list[str]:
        return next(c.labels for c in self.completions if c.mark == mark)


# ----------------------------------------------------------------------------- finding the server
def find_server(where: str | os.PathLike[str] | None = None) -> Path | None:
    """The ``yaml-language-server`` executable: ``where`` (a folder npm installed into, or the
    executable), else ``$GROKREEL_YAML_LS``, else a ``node_modules`` in the repository or here."""
    candidates = [where, os.environ.get(ENV), REPO, HERE.parent]
    for base in candidates:
        if not base:
            continue
        path = Path(base).expanduser()
        for exe in (path, path / "node_modules/.bin/yaml-language-server"):
            if exe.is_file() and os.access(exe, os.X_OK):
                return exe
    return None


def _version(exe: Path) -> str:
    package = exe.resolve().parent.parent / "package.json"  # node_modules/yaml-language-server
    try:
        return json.loads(package.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return "unknown"


# ----------------------------------------------------------------------------- the LSP client
class ServerError(RuntimeError):
    pass


class Client:
    """A minimal LSP client over a subprocess's stdio: requests with timeouts, server requests
    answered (``workspace/configuration`` gets grokreel's YAML settings), notifications kept."""

    def __init__(self, argv: list[str], cwd: Path, settings: dict[str, Any]):
        self.settings = settings
        self.config_asked: list[str] = []
        self.notes: queue.Queue[dict[str, Any]] = queue.Queue()
        self._answers: dict[int, queue.Queue[dict[str, Any]]] = {}
        self._next = 0
        self._write_lock = threading.Lock()
        self.stderr: list[str] = []
        self.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self.proc.stdout is not None and self.proc.stderr is not None
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()
        threading.Thread(target=self._drain, args=(self.proc.stderr,), daemon=True).start()

    # -- wire
    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.proc.stdin is not None
        with self._write_lock:
            self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.proc.stdin.flush()

    def _read(self, stream: BinaryIO) -> None:
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    self.notes.put({"method": "<closed>"})
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.decode("ascii", "replace").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if length is None:
                continue
            message = json.loads(stream.read(length))
            if "id" in message and "method" in message:
                self._answer(message)
            elif "id" in message:
                self._answers.setdefault(message["id"], queue.Queue()).put(message)
            else:
                self.notes.put(message)

    def _drain(self, stream: BinaryIO) -> None:
        for line in stream:
            self.stderr.append(line.decode("utf-8", "replace").rstrip())

    def _answer(self, request: dict[str, Any]) -> None:
        """What an editor answers when the server asks it something."""
        method, params = request["method"], request.get("params") or {}
        result: Any = None
        if method == "workspace/configuration":
            sections = [item.get("section", "") for item in params.get("items", [])]
            self.config_asked += sections
            result = [self.settings.get(section) for section in sections]
        self._send({"id": request["id"], "result": result})

    # -- calls
    def request(self, method: str, params: Any, timeout: float = TIMEOUT) -> Any:
        self._next += 1
        ident = self._next
        box = self._answers.setdefault(ident, queue.Queue())
        self._send({"id": ident, "method": method, "params": params})
        try:
            answer = box.get(timeout=timeout)
        except queue.Empty:
            raise ServerError(f"no answer to {method} in {timeout:.0f} s") from None
        finally:
            self._answers.pop(ident, None)
        if "error" in answer:
            raise ServerError(f"{method}: {answer['error']}")
        return answer.get("result")

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})

    def diagnostics(self, uri: str, timeout: float = TIMEOUT, settle: float = 1.0) -> list[dict]:
        """The last diagnostics published for ``uri``: waits for a non-empty list (or the
        timeout), then for ``settle`` seconds of quiet (the server may publish again)."""
        deadline = time.monotonic() + timeout
        latest: list[dict] | None = None
        quiet_until = deadline
        while time.monotonic() < min(deadline, quiet_until):
            wait = min(deadline, quiet_until) - time.monotonic()
            try:
                note = self.notes.get(timeout=max(0.01, wait))
            except queue.Empty:
                break
            if note.get("method") == "<closed>":
                raise ServerError("the server exited: " + "\n".join(self.stderr[-5:]))
            params = note.get("params") or {}
            if note.get("method") == "textDocument/publishDiagnostics" and params["uri"] == uri:
                latest = params["diagnostics"]
                if latest:
                    quiet_until = time.monotonic() + settle
        if latest is None:
            raise ServerError(f"no diagnostics published in {timeout:.0f} s")
        return latest

    def stop(self) -> None:
        """shutdown + exit, politely; then terminate, then kill: the server never outlives us."""
        try:
            if self.proc.poll() is None:
                self.request("shutdown", None, timeout=5)
                self.notify("exit", None)
        except (ServerError, OSError, ValueError):
            pass
        finally:
            for stop in (lambda: None, self.proc.terminate, self.proc.kill):
                stop()
                try:
                    self.proc.wait(timeout=3)
                    break
                except subprocess.TimeoutExpired:
                    continue
            for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                if pipe:
                    pipe.close()


# ----------------------------------------------------------------------------- the session
def yaml_settings() -> dict[str, Any]:
    """An editor's settings as the server asks for them (``workspace/configuration``): validation,
    completion and hover on; no schema store (offline; the storyboard names its own schema)."""
    return {
        "yaml": {
            "validate": True,
            "completion": True,
            "hover": True,
            "format": {"enable": False},
            "schemas": {},
            "schemaStore": {"enable": False},
            "schemaDownload": {"enable": True},
            "disableDefaultProperties": False,
            "suggest": {"parentSkeletonSelectedFirst": False},
            "yamlVersion": "1.2",
        },
        "http": {"proxy": "", "proxyStrictSSL": True},
        "[yaml]": {"editor.tabSize": 2},
        "editor": {"tabSize": 2, "detectIndentation": True},
        "files": {"associations": {}},
    }


def marked(text: str) -> tuple[str, dict[str, tuple[int, int]]]:
    """The text without its ``⟨x⟩`` marks, and each mark's 0-based (line, column)."""
    spots: dict[str, tuple[int, int]] = {}
    lines = []
    for number, line in enumerate(text.splitlines()):
        while "⟨" in line:
            column = line.index("⟨")
            end = line.index("⟩", column)
            spots[line[column + 1 : end]] = (number, column)
            line = line[:column] + line[end + 1 :]
        lines.append(line)
    return "\n".join(lines) + "\n", spots


def write_schema(folder: Path) -> Path:
    """``grokreel schema -o`` into ``folder``, as a user would (the same interpreter and path)."""
    target = folder / "storyboard.schema.json"
    subprocess.run(
        [sys.executable, "-m", "grokreel", "schema", "-o", str(target)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return target


def run_session(server: Path, timeout: float = TIMEOUT) -> Session:
    """Drive ``server`` through one editing session; what it completed and diagnosed."""
    node = shutil.which("node")
    node_version = (
        subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
        if node
        else "?"
    )
    text, spots = marked(STORYBOARD)
    with tempfile.TemporaryDirectory(prefix="grokreel-editor-") as tmp:
        folder = Path(tmp)
        write_schema(folder)
        board = folder / "storyboard.yaml"
        board.write_text(text, encoding="utf-8")
        checked = subprocess.run(
            [sys.executable, "-m", "grokreel", "validate", board.name],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=60,
        )
        validate = (checked.stdout + checked.stderr).strip()
        uri = board.as_uri()
        client = Client([str(server), "--stdio"], folder, yaml_settings())
        try:
            client.request(
                "initialize",
                {
                    "processId": os.getpid(),
                    "rootUri": folder.as_uri(),
                    "workspaceFolders": [{"uri": folder.as_uri(), "name": "films"}],
                    "capabilities": {
                        "workspace": {"configuration": True, "didChangeConfiguration": {}},
                        "textDocument": {
                            "completion": {
                                "completionItem": {
                                    "snippetSupport": True,
                                    "documentationFormat": ["markdown", "plaintext"],
                                }
                            },
                            "hover": {"contentFormat": ["markdown", "plaintext"]},
                            "publishDiagnostics": {"relatedInformation": True},
                        },
                    },
                    "initializationOptions": {},
                },
                timeout,
            )
            client.notify("initialized", {})
            client.notify("workspace/didChangeConfiguration", {"settings": yaml_settings()})
            client.notify(
                "textDocument/didOpen",
                {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}},
            )
            found = client.diagnostics(uri, timeout)
            completions = []
            for mark, (line, column) in sorted(spots.items()):
                answer = client.request(
                    "textDocument/completion",
                    {
                        "textDocument": {"uri": uri},
                        "position": {"line": line, "character": column},
                        "context": {"triggerKind": 1},
                    },
                    timeout,
                )
                items = answer.get("items", []) if isinstance(answer, dict) else answer or []
                completions.append(
                    Completion(
                        mark,
                        ASKS[mark],
                        line,
                        column,
                        [item["label"] for item in items],
                        {item["label"]: _doc(item) for item in items},
                    )
                )
        finally:
            client.stop()
    severities = {1: "error", 2: "warning", 3: "information", 4: "hint"}
    diagnostics = [
        Diagnostic(
            d["range"]["start"]["line"],
            d["range"]["start"]["character"],
            d["range"]["end"]["character"],
            severities.get(d.get("severity", 1), "error"),
            d["message"],
            str(d.get("source", "")),
        )
        for d in sorted(found, key=lambda d: (d["range"]["start"]["line"], d["message"]))
    ]
    return Session(
        f"yaml-language-server {_version(server)}",
        f"node {node_version}",
        text,
        completions,
        diagnostics,
        sorted(set(client.config_asked)),
        validate,
    )


def _doc(item: dict[str, Any]) -> str:
    doc = item.get("documentation") or item.get("detail") or ""
    if isinstance(doc, dict):
        doc = doc.get("value", "")
    first = str(doc).strip().split("\n\n")[0].replace("\n", " ")
    return first if len(first) <= 110 else first[:107] + "…"


# ----------------------------------------------------------------------------- the transcript
def _cell(text: str) -> str:
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


def transcript(session: Session) -> str:
    """``docs/editor-session.md``: what was asked where, what came back."""
    lines = session.text.splitlines()
    out = [
        "# Editor session: the storyboard schema in yaml-language-server",
        "",
        "<!-- Written by docs/tools/editor_session.py; do not edit by hand. -->",
        "",
        f"A real editing session, recorded: {session.server} ({session.node}) started over",
        "stdio as an editor starts it, the storyboard below opened, completions asked for at three",
        "places and the diagnostics it published collected. The schema is what",
        "`grokreel schema -o storyboard.schema.json` writes, beside the storyboard, named by the",
        "storyboard's first line (see [editors.md](editors.md)). Run it again with:",
        "",
        "```bash",
        "npm install --prefix ~/.cache/grokreel-yaml-ls yaml-language-server   # once",
        "GROKREEL_YAML_LS=~/.cache/grokreel-yaml-ls python docs/tools/editor_session.py --png",
        "```",
        "",
        "![the completion list at a new shot key](editor-autocomplete.png)",
        "",
        "## The storyboard (`storyboard.yaml`)",
        "",
        "Lines are numbered from 1 as an editor shows them; `‸` marks where completion was asked.",
        "",
        "```text",
    ]
    carets = {(c.line, c.column): c.mark for c in session.completions}
    for number, line in enumerate(lines):
        shown = line
        for (at_line, column), mark in carets.items():
            if at_line == number:
                shown = shown[:column] + f"‸({mark})" + shown[column:]
        out.append(f"{number + 1:>3}  {shown}")
    out += ["```", ""]
    if session.config_asked:
        asked = ", ".join(f"`{s}`" for s in session.config_asked)
        out += [
            f"The server asked the editor for its settings (`workspace/configuration`: {asked});",
            "the session answered with validation, completion and hover on and the schema store",
            "off (offline; the storyboard names its schema itself).",
            "",
        ]
    out += ["## Completions (`textDocument/completion`)", ""]
    for c in session.completions:
        out += [
            f"### ({c.mark}) {c.what}: line {c.line + 1}, column {c.column + 1}",
            "",
            f"Typed so far: `{lines[c.line].strip() or '(nothing: a new line in the shot)'}`."
            f" {len(c.labels)} suggestions:",
            "",
            "| label | documentation (first paragraph) |",
            "|---|---|",
        ]
        out += [f"| `{label}` | {_cell(c.details.get(label, ''))} |" for label in c.labels]
        out.append("")
    out += [
        "## Diagnostics (`textDocument/publishDiagnostics`)",
        "",
        "The storyboard has two mistakes on purpose: "
        + " and ".join(EXPECTED_BAD.values())
        + ". What the server marked, as an editor underlines it:",
        "",
        "| line:column | severity | source | message | the line |",
        "|---|---|---|---|---|",
    ]
    typing = {
        c.line - 1 for c in session.completions if not session.text.splitlines()[c.line].strip()
    }
    for d in session.diagnostics:
        out.append(
            f"| {d.line + 1}:{d.start + 1}-{d.end + 1} | {d.severity} | {d.source} | "
            f"{_cell(d.message)} | `{lines[d.line].strip()}` |"
        )
    if any(d.line in typing for d in session.diagnostics):
        out += [
            "",
            "(The shot on line "
            + ", ".join(str(n + 1) for n in sorted(typing))
            + " is the one being typed at (a): still empty, it is not a shot yet.)",
        ]
    out += [
        "",
        "The schema checks shape and ranges only. `grokreel validate storyboard.yaml`, which",
        "also checks names, timing through chains, files and prices, says of the same file:",
        "",
        "```text",
        session.validate,
        "```",
        "",
        "Both planted mistakes again, with a fix to try; the other two are the spots being typed",
        "at (a) and (c): `lamp` has no keys yet, and `dawn`'s `kind:` is still empty.",
        "",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", help=f"npm --prefix folder or the executable (or ${ENV})")
    parser.add_argument("--out", type=Path, default=REPO / "docs/editor-session.md")
    parser.add_argument("--png", type=Path, nargs="?", const=REPO / "docs/editor-autocomplete.png")
    parser.add_argument("--timeout", type=float, default=TIMEOUT)
    args = parser.parse_args(argv)
    server = find_server(args.server)
    if server is None:
        print(f"no yaml-language-server found; get it with: {INSTALL}", file=sys.stderr)
        print(f"then pass --server <dir> or set {ENV}=<dir>", file=sys.stderr)
        return 2
    session = run_session(server, args.timeout)
    args.out.write_text(transcript(session), encoding="utf-8")
    print(f"{args.out}: {len(session.completions)} completions, "
          f"{len(session.diagnostics)} diagnostics")  # fmt: skip
    if args.png:
        sys.path.insert(0, str(HERE.parent))
        from editor_picture import editor_html, screenshot

        screenshot(editor_html(session), args.png)
        print(f"{args.png}: {args.png.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
