"""A local stand-in for the Hugging Face Hub: a real HTTP server on 127.0.0.1 for push/load tests without internet.

It speaks the part of the Hub API that `huggingface_hub` (with Xet disabled) and `datasets` use: whoami, repo
create / info, preupload, NDJSON commits (a ``parentCommit`` that is not the head is refused with 412, as on the
Hub), the git-LFS batch API with basic uploads, resolve (download), tree listing and paths-info. Revisions are
not kept: every read sees the head. Repositories live in a folder on disk (one subfolder of files per repo).
Faults can be injected per request path: HTTP errors, slow responses, dropped connections.

Clients must be configured before importing any HF library::

    HF_ENDPOINT=http://127.0.0.1:<port>  HF_HUB_DISABLE_XET=1  HF_TOKEN=hf_test  HF_HUB_OFFLINE=0
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

USER = "tester"
_REPO = r"(?P<type>models|datasets|spaces)/(?P<repo>[^/]+/[^/]+)"


@dataclass
class Fault:
    """What to do with requests whose ``METHOD path`` matches ``pattern``, ``times`` times (None: always): wait
    ``delay`` seconds, then drop the connection, answer ``status``, or (status None) answer normally."""

    pattern: str
    status: int | None = 500
    delay: float = 0.0
    drop: bool = False
    times: int | None = None
    hits: int = 0


class HubState:
    """Repositories on disk plus the fault table, shared by all request threads."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.lock = threading.Lock()
        self.faults: list[Fault] = []
        self.requests: list[str] = []

    # ------------------------------------------------------------------ repos
    def repo_dir(self, rtype: str, repo: str) -> Path:
        return self.root / "repos" / rtype / repo

    def exists(self, rtype: str, repo: str) -> bool:
        return (self.repo_dir(rtype, repo) / "meta.json").is_file()

    def meta(self, rtype: str, repo: str) -> dict[str, Any]:
        return json.loads((self.repo_dir(rtype, repo) / "meta.json").read_text())

    def create(self, rtype: str, repo: str, private: bool) -> None:
        d = self.repo_dir(rtype, repo)
        (d / "files").mkdir(parents=True, exist_ok=True)
        self._write_meta(rtype, repo, {"private": private, "commits": ["initial commit"]})

    def _write_meta(self, rtype: str, repo: str, meta: dict[str, Any]) -> None:
        (self.repo_dir(rtype, repo) / "meta.json").write_text(json.dumps(meta))

    def sha(self, rtype: str, repo: str) -> str:
        commits = self.meta(rtype, repo)["commits"]
        return hashlib.sha1(f"{rtype}/{repo}/{len(commits)}".encode()).hexdigest()

    def files(self, rtype: str, repo: str) -> dict[str, Path]:
        base = self.repo_dir(rtype, repo) / "files"
        return {p.relative_to(base).as_posix(): p for p in sorted(base.rglob("*")) if p.is_file()}

    def commit(self, rtype: str, repo: str, lines: list[dict[str, Any]]) -> str:
        base = self.repo_dir(rtype, repo) / "files"
        meta = self.meta(rtype, repo)
        for item in lines:
            key, value = item["key"], item["value"]
            if key == "header":
                meta["commits"].append(value.get("summary", ""))
            elif key == "file":
                target = base / value["path"]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(base64.b64decode(value["content"]))
            elif key == "lfsFile":
                target = base / value["path"]
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(self.root / "lfs" / value["oid"], target)
            elif key == "deletedFile":
                (base / value["path"]).unlink(missing_ok=True)
            elif key == "deletedFolder":
                shutil.rmtree(base / value["path"], ignore_errors=True)
        self._write_meta(rtype, repo, meta)
        return self.sha(rtype, repo)

    # ------------------------------------------------------------------ faults
    def fault_for(self, method: str, path: str) -> Fault | None:
        with self.lock:
            self.requests.append(f"{method} {path}")
            for fault in self.faults:
                if re.search(fault.pattern, f"{method} {path}") and (fault.times is None or fault.hits < fault.times):
                    fault.hits += 1
                    return fault
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: HubState
    endpoint: str

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    # ------------------------------------------------------------------ plumbing
    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(
        self, status: int, payload: Any = None, headers: dict[str, str] | None = None, raw: bytes | None = None
    ) -> None:
        data = raw if raw is not None else (b"" if payload is None else json.dumps(payload).encode())
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if raw is None else "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":  # a HEAD answer has headers only, errors included
            self.wfile.write(data)

    def _error(self, status: int, code: str, message: str) -> None:
        self._send(status, {"error": message}, {"X-Error-Code": code, "X-Error-Message": message})

    def _dispatch(self, method: str) -> None:
        url = urlparse(self.path)
        path = unquote(url.path)
        body = self._body() if method in ("POST", "PUT") else b""
        fault = self.state.fault_for(method, path)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.drop:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if fault.status:
                self._error(fault.status, "Injected", f"injected fault {fault.status}")
                return
        try:
            self._route(method, path, parse_qs(url.query), body)
        except BrokenPipeError:
            pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    # ------------------------------------------------------------------ routes
    def _route(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> None:
        st = self.state
        if path == "/api/whoami-v2":
            return self._send(
                200, {"type": "user", "name": USER, "orgs": [], "auth": {"accessToken": {"role": "write"}}}
            )
        if path == "/api/validate-yaml":
            return self._send(200, {"errors": [], "warnings": []})
        if path == "/api/repos/create" and method == "POST":
            req = json.loads(body)
            rtype = req.get("type") or "model"
            repo = f"{req.get('organization') or USER}/{req['name']}"
            prefix = "" if rtype == "model" else f"{rtype}s/"
            answer = {"url": f"{self.endpoint}/{prefix}{repo}", "name": repo, "id": repo}
            with st.lock:
                if st.exists(rtype + "s", repo):
                    answer["error"] = "You already created this repo"
                    return self._send(409, answer, {"X-Error-Code": "RepoExists"})
                st.create(rtype + "s", repo, bool(req.get("private")))
            return self._send(200, answer)
        m = re.fullmatch(r"/(?:(?P<type>datasets|spaces)/)?(?P<repo>[^/]+/[^/]+)\.git/info/lfs/objects/batch", path)
        if m and method == "POST":
            objects = json.loads(body)["objects"]
            lfs = st.root / "lfs"
            out = []
            for o in objects:
                entry = {"oid": o["oid"], "size": o["size"]}
                if not (lfs / o["oid"]).is_file():
                    entry["actions"] = {"upload": {"href": f"{self.endpoint}/__lfs__/{o['oid']}", "header": {}}}
                out.append(entry)
            return self._send(200, {"transfer": "basic", "objects": out})
        if path.startswith("/__lfs__/") and method == "PUT":
            oid = path.rsplit("/", 1)[-1]
            if hashlib.sha256(body).hexdigest() != oid:
                return self._error(400, "BadOid", "sha256 mismatch")
            (st.root / "lfs").mkdir(exist_ok=True)
            (st.root / "lfs" / oid).write_bytes(body)
            return self._send(200, {})
        m = re.fullmatch(rf"/api/{_REPO}/(?P<op>preupload|commit)/(?P<rev>[^/]+)", path)
        if m and method == "POST":
            rtype, repo = m["type"], m["repo"]
            if not st.exists(rtype, repo):
                return self._error(404, "RepoNotFound", f"Repository {repo} not found")
            if m["op"] == "preupload":
                files = json.loads(body)["files"]
                mode = [
                    {"path": f["path"], "uploadMode": "lfs" if f["size"] > 1024 else "regular", "shouldIgnore": False}
                    for f in files
                ]
                return self._send(200, {"files": mode})
            lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
            header = next((item["value"] for item in lines if item["key"] == "header"), {})
            with st.lock:
                parent = header.get("parentCommit")
                if parent is not None and parent != st.sha(rtype, repo):  # as the Hub: no commit on a stale read
                    return self._error(
                        412, "PreconditionFailed", "A commit has happened since. Please refresh and try again."
                    )
                sha = st.commit(rtype, repo, lines)
            return self._send(200, {"commitUrl": f"{self.endpoint}/{repo}/commit/{sha}", "commitOid": sha})
        m = re.fullmatch(rf"/api/{_REPO}/paths-info/(?P<rev>[^/]+)", path)
        if m and method == "POST":
            rtype, repo = m["type"], m["repo"]
            if not st.exists(rtype, repo):
                return self._error(404, "RepoNotFound", f"Repository {repo} not found")
            wanted = parse_qs(body.decode()).get("paths", [])
            files = st.files(rtype, repo)
            dirs = {str(Path(p).parent) for p in files}
            out = [self._entry(p, files[p]) for p in wanted if p in files]
            out += [{"type": "directory", "path": p, "oid": _oid(p.encode())} for p in wanted if p in dirs]
            return self._send(200, out)
        m = re.fullmatch(rf"/api/{_REPO}/tree/(?P<rev>[^/]+)(?P<sub>/.*)?", path)
        if m and method == "GET":
            return self._tree(m["type"], m["repo"], (m["sub"] or "").strip("/"), query)
        m = re.fullmatch(rf"/api/{_REPO}(?:/revision/(?P<rev>[^/]+))?", path)
        if m and method == "GET":
            rtype, repo = m["type"], m["repo"]
            if not st.exists(rtype, repo):
                return self._error(404, "RepoNotFound", f"Repository {repo} not found")
            files = st.files(rtype, repo)
            return self._send(
                200,
                {
                    "id": repo,
                    "_id": _oid(repo.encode()),
                    "sha": st.sha(rtype, repo),
                    "private": st.meta(rtype, repo)["private"],
                    "disabled": False,
                    "gated": False,
                    "downloads": 0,
                    "likes": 0,
                    "tags": [],
                    "lastModified": "2026-01-01T00:00:00.000Z",
                    "siblings": [{"rfilename": p, "size": f.stat().st_size} for p, f in files.items()],
                },
            )
        m = re.fullmatch(
            r"/(?:(?P<type>datasets|spaces)/)?(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)", path
        )
        if m and method in ("GET", "HEAD"):
            rtype, repo = (m["type"] or "models"), m["repo"]
            if not st.exists(rtype, repo):
                return self._error(404, "RepoNotFound", f"Repository {repo} not found")
            target = st.files(rtype, repo).get(m["file"])
            if target is None:
                return self._error(404, "EntryNotFound", f"{m['file']} does not exist")
            data = target.read_bytes()
            headers = {"X-Repo-Commit": st.sha(rtype, repo), "ETag": f'"{_oid(data)}"'}
            return self._send(200, raw=data, headers=headers)
        return self._error(501, "NotImplemented", f"local hub: {method} {path} is not implemented")

    def _entry(self, path: str, file: Path) -> dict[str, Any]:
        data = file.read_bytes()
        return {"type": "file", "path": path, "size": len(data), "oid": _oid(data)}

    def _tree(self, rtype: str, repo: str, sub: str, query: dict[str, list[str]]) -> None:
        st = self.state
        if not st.exists(rtype, repo):
            return self._error(404, "RepoNotFound", f"Repository {repo} not found")
        recursive = query.get("recursive", ["false"])[0].lower() in ("true", "1")
        files = {p: f for p, f in st.files(rtype, repo).items() if not sub or p.startswith(sub + "/")}
        if sub and not files:
            return self._error(404, "EntryNotFound", f"{sub} does not exist")
        entries, dirs = [], set()
        for p, f in files.items():
            rel = p[len(sub) + 1 :] if sub else p
            parts = rel.split("/")
            for i in range(1, len(parts)):
                if recursive or i == 1:
                    dirs.add("/".join(([sub] if sub else []) + parts[:i]))
            if recursive or len(parts) == 1:
                entries.append(self._entry(p, f))
        entries += [{"type": "directory", "path": d, "oid": _oid(d.encode()), "size": 0} for d in sorted(dirs)]
        return self._send(200, entries)


def _oid(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


class LocalHub:
    """Start/stop the server; inspect repos; inject faults."""

    def __init__(self, root: Path) -> None:
        self.state = HubState(root)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        handler.endpoint = self.endpoint
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LocalHub:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def env(self, home: Path) -> dict[str, str]:
        """Environment for a client process talking to this hub."""
        return {
            "HF_ENDPOINT": self.endpoint,
            "HF_HUB_DISABLE_XET": "1",
            "HF_TOKEN": "hf_test_token",
            "HF_HUB_OFFLINE": "0",
            "HF_HOME": str(home),
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
        }

    def files(self, repo: str, rtype: str = "datasets") -> list[str]:
        return list(self.state.files(rtype, repo)) if self.state.exists(rtype, repo) else []

    def read(self, repo: str, path: str, rtype: str = "datasets") -> bytes:
        return self.state.files(rtype, repo)[path].read_bytes()

    def fault(self, pattern: str, **kwargs: Any) -> Fault:
        fault = Fault(pattern, **kwargs)
        with self.state.lock:
            self.state.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self.state.lock:
            self.state.faults.clear()
