"""HTTP stand-ins that run in a thread of the test process, on a free loopback port.

A paged JSON API for dlt's rest_api source, and the endpoints of vendor APIs that cannot run here
(DataHub GMS, Airbyte, GitHub releases) as their client libraries call them; every request is kept
for the tests to assert on. No child process, so nothing to reap: ``stop()`` ends the thread.
"""

import http.server
import json
import threading
from urllib.parse import parse_qs, urlsplit


class LocalHttpServer:
    """Serves a ``BaseHTTPRequestHandler`` class in a daemon thread; ``url`` is where."""

    def _serve(self, handler: type[http.server.BaseHTTPRequestHandler]) -> None:
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


class PagedJsonServer(LocalHttpServer):
    """A REST API stand-in for dlt's rest_api source: ``GET /<resource>?page=N`` answers one page.

    A page is ``{"items": [...], "next": <URL of the next page, or null>}``, ``page_size`` rows
    each. ``resources`` maps a path to its rows; tests may replace them between runs. Every
    request's path and Authorization header is kept in ``requests``. Runs in a thread of the test
    process (no child process to reap), on a free loopback port.
    """

    def __init__(self, resources: dict[str, list[dict]], page_size: int = 2):
        self.resources = resources
        self.page_size = page_size
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                server.requests.append((self.path, self.headers.get("Authorization")))
                rows = server.resources.get(parts.path.strip("/"))
                if rows is None:
                    self.send_error(404)
                    return
                page = int(parse_qs(parts.query).get("page", ["1"])[0])
                start = (page - 1) * server.page_size
                more = start + server.page_size < len(rows)
                body = json.dumps({
                    "items": rows[start : start + server.page_size],
                    "next": f"{server.url}{parts.path}?page={page + 1}" if more else None,
                }).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_):  # keep the test output clean
                pass

        self._serve(Handler)



class JsonStandIn(LocalHttpServer):
    """A local HTTP server answering JSON by ``handle(request)`` (404 where it returns None), keeping every request.

    For vendor APIs that cannot run here (DataHub GMS, Airbyte): a subclass implements the endpoints
    the vendor's client library calls, and tests assert what arrived. A request is a dict with
    method, path (with query), headers and body (parsed JSON, or None).
    """

    def __init__(self):
        self.requests: list[dict] = []
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                text = self.rfile.read(length).decode() if length else ""
                request = {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": json.loads(text) if text else None}
                stand_in.requests.append(request)
                answer = stand_in.handle(request)
                status, payload = answer if answer is not None else (404, {"message": f"no stand-in for {self.command} {self.path}"})
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_DELETE = _serve  # noqa: N815 (http.server's names)

            def log_message(self, *_):  # keep the test output clean
                pass

        self._serve(Handler)

    def handle(self, request: dict) -> tuple[int, object] | None:
        """(status, JSON body) for ``request``; None answers 404."""
        return None



class DataHubGms(JsonStandIn):
    """DataHub GMS as acryl-datahub's DatahubRestEmitter (Rest.li ingestion) calls it.

    ``GET /config`` (the emitter's connection test; it wants "noCode": "true"), then
    ``POST /aspects?action=ingestProposal`` (one proposal) or ``ingestProposalBatch`` (several).
    ``proposals()`` reads back every proposal with its aspect's JSON value parsed.
    """

    def handle(self, request):
        if request["method"] == "GET" and request["path"].split("?")[0] == "/config":
            return 200, {"noCode": "true", "versions": {"acryldata/datahub": {"version": "v1.2.0", "commit": "stand-in"}}}
        if request["method"] == "POST" and request["path"] in ("/aspects?action=ingestProposal", "/aspects?action=ingestProposalBatch"):
            return 200, {"value": "ok"}
        return None

    def proposals(self) -> list[dict]:
        """Every proposal received, in order: entityUrn, aspectName, changeType and the aspect as an object."""
        found = []
        for request in self.requests:
            body = request["body"] or {}
            for proposal in ([body["proposal"]] if "proposal" in body else body.get("proposals", [])):
                aspect = proposal.get("aspect", {}).get("value")
                found.append({**proposal, "aspect": json.loads(aspect) if isinstance(aspect, str) else aspect})
        return found


class AirbyteApi(JsonStandIn):
    """Airbyte's Configuration API (/api/v1) as dagster-airbyte's ``AirbyteResource`` calls it.

    ``connections/get`` (the connection and its streams), ``connections/sync`` (starts job 1, 2, ...),
    ``jobs/list`` (status polls without logs; ``jobs/get`` with them) and ``jobs/cancel``. Each job
    moves through ``statuses``, one per poll, and stays at the last.
    """

    def __init__(self, connection_id: str, streams: list[str], statuses: list[str]):
        self.connection_id = connection_id
        self.streams = streams
        self.statuses = statuses
        self.jobs: dict[int, int] = {}  # job id -> polls so far
        super().__init__()

    def _job(self, job_id: int, poll: bool) -> dict:
        polls = self.jobs[job_id] = self.jobs[job_id] + (1 if poll else 0)
        status = "pending" if polls == 0 else self.statuses[min(polls, len(self.statuses)) - 1]
        return {"job": {"id": job_id, "configType": "sync", "configId": self.connection_id, "status": status}, "attempts": []}

    def handle(self, request):
        path, body = request["path"], request["body"] or {}
        if request["method"] != "POST" or not path.startswith("/api/v1/"):
            return None
        endpoint = path[len("/api/v1/"):]
        if endpoint in ("connections/get", "connections/sync") and body.get("connectionId") != self.connection_id:
            return 404, {"message": f"connection {body.get('connectionId')} not found"}
        if endpoint == "connections/get":
            streams = [{"stream": {"name": name}, "config": {"selected": True, "syncMode": "full_refresh"}} for name in self.streams]
            return 200, {"connectionId": self.connection_id, "name": "GitHub → Postgres", "status": "active", "syncCatalog": {"streams": streams}}
        if endpoint == "connections/sync":
            job_id = len(self.jobs) + 1
            self.jobs[job_id] = 0
            return 200, self._job(job_id, poll=False)
        if endpoint == "jobs/get" and body.get("id") in self.jobs:
            return 200, self._job(body["id"], poll=True)
        if endpoint == "jobs/list" and body.get("configId") == self.connection_id:
            return 200, {"jobs": [self._job(job_id, poll=True) for job_id in sorted(self.jobs, reverse=True)[:1]]}
        if endpoint == "jobs/cancel" and body.get("id") in self.jobs:
            return 200, {"job": {"id": body["id"], "status": "cancelled"}, "attempts": []}
        return None

    def calls(self) -> list[str]:
        """The endpoints called, in order (e.g. "connections/sync")."""
        return [r["path"][len("/api/v1/"):] for r in self.requests]


class GitHubReleasesServer(JsonStandIn):
    """GitHub's ``GET /repos/{owner}/{repo}/releases`` for the release sensor, answering ``releases`` newest first.

    ``releases`` (dicts with at least ``id`` and ``tag_name``) may grow between ticks; ``status``
    set to an HTTP code makes every answer that error. ``calls`` keeps each request's path and
    Authorization header.
    """

    def __init__(self, repository: str, releases: list[dict]):
        self.repository = repository
        self.releases = releases
        self.status = 200
        super().__init__()

    @property
    def calls(self) -> list[tuple[str, str | None]]:
        return [(r["path"], r["headers"].get("Authorization")) for r in self.requests]

    def handle(self, request: dict) -> tuple[int, object] | None:
        if self.status != 200:
            return self.status, {"message": "stand-in error"}
        if request["method"] != "GET" or request["path"].split("?")[0] != f"/repos/{self.repository}/releases":
            return None
        newest_first = sorted(self.releases, key=lambda r: r["id"], reverse=True)
        return 200, [{"draft": False, "prerelease": False, "name": r["tag_name"], **r} for r in newest_first]
