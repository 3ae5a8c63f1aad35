"""The playground's web server: the standard library's ``ThreadingHTTPServer``, JSON over HTTP.

Why the standard library: the page needs six small JSON endpoints and three static files; a
framework (Flask, FastAPI) would add a dependency and a second way of routing for nothing the
page uses, and ``http.server`` is maintained with Python itself. Live training polls: each
``/api/train`` request runs at most ``max_epochs`` epochs and about ``max_seconds`` seconds
(it checks the clock between epochs), so no request holds a thread for long.

Every request is validated (sizes, ranges, types): a bad one gets ``400`` and
``{"error": message}``. The server binds to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import base64
import binascii
import errno
import json
import os
import socket
import tempfile
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources

from .. import _validate as check
from .. import io
from . import views
from .config import (DEFAULTS, HIDDEN, INITS, LOSSES, MAX_EPOCHS_PER_REQUEST, MAX_LAYERS,
                     MAX_TOTAL_EPOCHS, MAX_UNITS, MODES, OUTPUTS, PRESETS, REGULARIZERS)
from .datasets import FEATURES, GENERATED, MAX_CSV_CHARS, MAX_PATTERNS, NAMES, parse_points
from .experiment import Experiment, weights_of

MAX_MODEL_FILE = 200_000  # bytes of a model file the page loads (an 8-wide 6-layer net: ~12 kB)

MAX_BODY = 2_000_000  # bytes of one request
STATIC = {"/": ("index.html", "text/html; charset=utf-8"),
          "/index.html": ("index.html", "text/html; charset=utf-8"),
          "/static/playground.js": ("playground.js", "text/javascript; charset=utf-8"),
          "/static/playground.css": ("playground.css", "text/css; charset=utf-8"),
          "/static/views.js": ("views.js", "text/javascript; charset=utf-8"),
          "/static/diagram.js": ("diagram.js", "text/javascript; charset=utf-8")}
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class BadRequest(ValueError):
    """A request the server refuses with 400 and the message."""


def options() -> dict:
    """What the page offers, and the limits it must respect."""
    return {"datasets": list(NAMES), "generated": list(GENERATED), "presets": PRESETS,
            "defaults": DEFAULTS,
            "features": {name: label for name, (label, _) in FEATURES.items()},
            "choices": {"activation": HIDDEN, "output": OUTPUTS, "loss": LOSSES, "mode": MODES,
                        "regularizer": REGULARIZERS, "init": INITS},
            "limits": {"layers": MAX_LAYERS, "units": MAX_UNITS, "patterns": MAX_PATTERNS,
                       "epochs": MAX_TOTAL_EPOCHS, "epochs_per_request": MAX_EPOCHS_PER_REQUEST,
                       "csv_chars": MAX_CSV_CHARS}}


def _fields(body, required: tuple, optional: tuple = ()) -> dict:
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    missing = [k for k in required if k not in body]
    unknown = sorted(set(body) - set(required) - set(optional))
    if missing or unknown:
        raise BadRequest(f"expected the fields {list(required)} (optional {list(optional)}); "
                         f"missing {missing}, unknown {unknown}")
    return body


class Playground:
    """The endpoints, each ``body -> JSON-able`` (or bytes), independent of HTTP."""

    def __init__(self, max_seconds: float = 2.0, max_epochs: int = MAX_EPOCHS_PER_REQUEST):
        self.max_seconds = check.non_negative(max_seconds, "max_seconds", "playground")
        self.max_epochs = check.positive_int(max_epochs, "max_epochs", "playground",
                                             maximum=MAX_EPOCHS_PER_REQUEST)

    def experiment(self, body) -> dict:
        """A new experiment: its checked config, data, weights (the initial ones, or the
        ``weights`` a link or a model file restores at ``epoch``), first step."""
        body = _fields(body, ("config",), ("pattern", "weights", "epoch"))
        ex = Experiment(body["config"])
        net = ex.network(body.get("weights"))
        epoch = _epoch(body.get("epoch", 0))
        return {"config": ex.config, "sizes": ex.sizes, "features": ex.features,
                "data": ex.data(), "weights": weights_of(net), "epoch": epoch,
                "step": self._step(ex, net, body.get("pattern", 0), epoch), **ex.evaluate(net)}

    def step(self, body) -> dict:
        body = _fields(body, ("config", "weights"), ("pattern", "epoch"))
        ex = Experiment(body["config"])
        return self._step(ex, ex.network(body["weights"]), body.get("pattern", 0),
                          _epoch(body.get("epoch", 0)))

    def refresh(self, body) -> dict:
        """Everything that depends on the weights, after a weight is set by hand: the step,
        the region or curve, the errors, the units' pictures."""
        body = _fields(body, ("config", "weights"), ("pattern", "epoch"))
        ex = Experiment(body["config"])
        net = ex.network(body["weights"])
        return {"step": self._step(ex, net, body.get("pattern", 0),
                                   _epoch(body.get("epoch", 0))), **ex.evaluate(net)}

    @staticmethod
    def _step(ex, net, pattern, epoch: int) -> dict:
        step = ex.step(net, pattern)
        step["training_step"] = views.training_step(ex, net, epoch)
        return step

    def surface(self, body) -> dict:
        body = _fields(body, ("config", "weights", "pair"), ("path",))
        ex = Experiment(body["config"])
        return views.surface(ex, ex.network(body["weights"]), body["pair"], body.get("path"))

    def train(self, body) -> dict:
        body = _fields(body, ("config", "weights", "epoch", "epochs"), ("stopper", "pattern"))
        ex = Experiment(body["config"])
        net = ex.network(body["weights"])
        result = ex.train(net, body["epoch"], body["epochs"], body.get("stopper"),
                          max_seconds=self.max_seconds, max_epochs=self.max_epochs)
        result["step"] = self._step(ex, net, body.get("pattern", 0), result["epoch"])
        return result

    def export(self, body) -> bytes:
        body = _fields(body, ("config", "weights"), ("epoch",))
        ex = Experiment(body["config"])
        return ex.model_file(ex.network(body["weights"]), body.get("epoch", 0))

    def load(self, body) -> dict:
        """``{"config", "weights", "epoch"}`` from a model file the page exported (base64)."""
        body = _fields(body, ("file",))
        data = _model_bytes(body["file"])
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "model.safetensors")
            with open(path, "wb") as handle:
                handle.write(data)
            net, extra = io.read(path)
        if not isinstance(extra, dict) or not isinstance(extra.get("playground"), dict):
            raise BadRequest("this model file was not saved by the playground (no playground "
                             "configuration in its metadata); use 'Save model file' on the page")
        ex = Experiment(extra["playground"])
        if [getattr(net, "sizes", None), getattr(net, "activations", None)] != [
                ex.sizes, [ex.config["activation"]] * (len(ex.sizes) - 2) + [ex.config["output"]]]:
            raise BadRequest("the model file's network does not match its playground "
                             "configuration")
        return {"config": ex.config, "weights": weights_of(net),
                "epoch": _epoch(extra.get("epoch", 0))}

    def csv(self, body) -> dict:
        body = _fields(body, ("text",))
        return {"points": parse_points(body["text"])}


ROUTES = {"/api/experiment": "experiment", "/api/step": "step", "/api/train": "train",
          "/api/export": "export", "/api/csv": "csv", "/api/refresh": "refresh",
          "/api/surface": "surface", "/api/load": "load"}


def _epoch(value) -> int:
    """An epoch count: 0 or a positive integer up to the total limit."""
    if isinstance(value, int) and not isinstance(value, bool) and value == 0:
        return 0
    return check.positive_int(value, "epoch", "playground", maximum=MAX_TOTAL_EPOCHS,
                              alternative="0")


def _model_bytes(text) -> bytes:
    if not isinstance(text, str) or len(text) > 2 * MAX_MODEL_FILE:
        raise BadRequest(f"file must be the model file as base64 text of at most "
                         f"{MAX_MODEL_FILE} bytes")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("file must be base64 text (the page sends the file's bytes so)") from None



class Handler(BaseHTTPRequestHandler):
    server_version = "deltagrad-playground"
    playground: Playground  # set by make_server
    # one computation at a time: deltagrad's gradient mode (no_grad) is process-wide, so a
    # surface evaluated under no_grad in one thread would break a backward pass in another
    compute = threading.Lock()

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        """Quiet: the terminal shows the address, not every poll."""

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/favicon.ico":
            return self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
        if path == "/api/options":
            return self._send_json(HTTPStatus.OK, options())
        if path not in STATIC:
            return self._send_json(HTTPStatus.NOT_FOUND, {"error": f"no such page {path!r}"})
        name, kind = STATIC[path]
        content = resources.files(__package__).joinpath("static", name).read_bytes()
        self._send(HTTPStatus.OK, content, kind)

    def do_POST(self):
        route = ROUTES.get(self.path)
        if route is None:
            return self._send_json(HTTPStatus.NOT_FOUND, {"error": f"no such API {self.path!r}"})
        try:
            body = self._body()
            with self.compute:
                result = getattr(self.playground, route)(body)
        except (BadRequest, ValueError, TypeError) as err:
            return self._send_json(HTTPStatus.BAD_REQUEST, {"error": str(err)})
        except Exception as err:  # a bug: say so instead of dropping the connection
            return self._send_json(HTTPStatus.INTERNAL_SERVER_ERROR,
                                   {"error": f"{type(err).__name__}: {err}"})
        if isinstance(result, bytes):
            return self._send(HTTPStatus.OK, result, "application/octet-stream")
        self._send_json(HTTPStatus.OK, result)

    def _body(self):
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise BadRequest("a request body with a Content-Length is required") from None
        if not 0 < length <= MAX_BODY:
            raise BadRequest(f"the request body must hold 1 to {MAX_BODY} bytes, got {length}")
        raw = self.rfile.read(length)
        try:
            return json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise BadRequest(f"the request body is not valid JSON: {err}") from None

    def _send_json(self, status, payload):
        self._send(status, json.dumps(payload, ensure_ascii=False, allow_nan=False)
                   .encode("utf-8"), "application/json; charset=utf-8")

    def _send(self, status, content: bytes, kind: str):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(content)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(content)


def _no_constant(name: str):
    raise BadRequest(f"the request body is not valid JSON: {name} is not a number JSON allows")


def make_server(host: str = "127.0.0.1", port: int = 8765, max_seconds: float = 2.0,
                max_epochs: int = MAX_EPOCHS_PER_REQUEST) -> ThreadingHTTPServer:
    """A server for the playground (not yet serving: call ``serve_forever()``); ``port=0``
    picks a free port, ``server.server_address`` says which."""
    if port != 0:
        check.positive_int(port, "port", "playground", maximum=65535, alternative="0 (any free)")
    if not isinstance(host, str) or not host:
        raise TypeError(f"playground: host must be an interface name or address, got {host!r}")
    handler = type("PlaygroundHandler", (Handler,),
                   {"playground": Playground(max_seconds, max_epochs)})
    try:
        server = ThreadingHTTPServer((host, port), handler)
    except OSError as err:
        raise OSError(_listen_failure(host, port, err)) from None
    server.daemon_threads = True
    return server


def _listen_failure(host: str, port: int, err: OSError) -> str:
    """Why the server cannot listen, in the words of its cause: a host name that does not
    resolve, an address this machine does not have, or a port in use."""
    reason = err.strerror or str(err)
    if isinstance(err, socket.gaierror):
        return (f"playground: cannot find the host {host!r} ({reason}); give an interface "
                f"name or address of this machine, such as 127.0.0.1 (the default)")
    if err.errno == errno.EADDRNOTAVAIL:
        return (f"playground: {host} is not an address of this machine ({reason}); give one "
                f"of its interfaces, such as 127.0.0.1 (the default) or 0.0.0.0 (all)")
    if err.errno == errno.EADDRINUSE:
        return (f"playground: port {port} on {host} is in use ({reason}); choose another "
                f"with --port")
    return f"playground: cannot listen on {host}:{port} ({reason})"


def address(server) -> str:
    host, port = server.server_address[:2]
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}/"
