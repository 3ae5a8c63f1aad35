"""The playground: its experiments reproduce the tracer and train, its server validates every
request and stays on 127.0.0.1, and the command serves the page. Browser tests live in
test_playground_browser.py."""

import http.client
import json
import pathlib
import socket
import subprocess
import sys
import threading
import tomllib
from importlib import resources

import numpy as np
import pytest

import deltagrad as dg
from deltagrad.playground import PRESETS, Experiment, address, make_server

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture()
def server():
    """A playground on a free port of 127.0.0.1, shut down after the test."""
    srv = make_server(port=0, max_seconds=30.0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def request(srv, method, path, body=None, raw=None):
    """``(status, decoded JSON or bytes)`` of one request."""
    connection = http.client.HTTPConnection(*srv.server_address[:2], timeout=60)
    payload = raw if raw is not None else None if body is None else json.dumps(body).encode()
    connection.request(method, path, body=payload,
                       headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    if response.getheader("Content-Type", "").startswith("application/json"):
        return response.status, json.loads(data)
    return response.status, data


def xor_config(**changes):
    return {"dataset": "xor", **PRESETS["xor"], **changes}


# ---- experiments ------------------------------------------------------------------------------
def test_a_step_is_the_tracers_solution_and_question_1_gives_the_notes_numbers():
    """Practice question 1 (§3.4): y = 0.754534, δ^(2) = y − t = −0.245466 (the notes' values)."""
    ex = Experiment({"dataset": "question-1", **PRESETS["question-1"]})
    step = ex.step(ex.network(), 0)
    assert step["values"]["y_1"] == pytest.approx(0.754534, abs=1e-6)
    assert step["values"]["delta^(2)_1"] == pytest.approx(0.754534 - 1.0, abs=1e-6)
    spec = dg.explain.SPECS["1"]
    expected = dg.explain.backprop(dg.explain.network(spec), spec["x"], spec["t"],
                                   loss=spec["loss"], lr=0.1)
    assert step["values"] == json.loads(expected.to_json())["values"]
    assert step["markdown"].startswith("# Backpropagation through a 2-2-1 network")


def test_xor_trains_to_all_four_patterns_in_200_epochs():
    ex = Experiment(xor_config())
    net = ex.network()
    result = ex.train(net, 0, 200)
    errors = result["history"]["error"]
    assert result["epoch"] == 200 and result["stopped"] == "epochs"
    assert errors[-1] < 0.05 * errors[0]
    assert result["correct"] == 4 and result["accuracy"] == 1.0


def test_training_does_not_depend_on_how_it_is_cut_into_requests():
    """Each epoch is shuffled by (seed, epoch): 40 epochs at once equal 4 × 10 (minibatches)."""
    config = {"dataset": "moons", **PRESETS["moons"], "n": 60, "early_stopping": True,
              "patience": 3}
    whole = Experiment(config)
    net = whole.network()
    at_once = whole.train(net, 0, 40)
    parts = Experiment(config)
    weights, epoch, stopper = None, 0, None
    for _ in range(4):
        result = parts.train(parts.network(weights), epoch, 10, stopper)
        weights, epoch, stopper = result["weights"], result["epoch"], result["stopper"]
        if result["stopped"]:
            break
    assert epoch == at_once["epoch"] and stopper == at_once["stopper"]
    assert weights == at_once["weights"]


def test_hand_set_weights_the_init_choice_and_the_seed():
    config = xor_config(weights={"w^(1)_21": 0.25, "w^(2)_10": -1.5})
    net = Experiment(config).network()
    assert net.linears[0].weight.data[1, 0] == 0.25 and net.linears[1].bias.data[0] == -1.5
    again = Experiment(config).network()
    assert all(np.array_equal(a.data, b.data) for a, b in zip(net.parameters(),
                                                              again.parameters()))
    zeros = Experiment(xor_config(init="zeros")).network()
    assert not np.any(zeros.linears[0].weight.data)
    other = Experiment(xor_config(seed=2)).network()
    assert not np.array_equal(other.linears[0].weight.data, again.linears[0].weight.data)
    with pytest.raises(ValueError, match="names no weight of the 2-2-1 network"):
        Experiment(xor_config(weights={"w^(1)_31": 1.0}))


def test_the_training_bound_stops_a_request_after_one_epoch_past_its_time():
    ex = Experiment(xor_config())
    result = ex.train(ex.network(), 0, 100, max_seconds=0.0)
    assert result["epoch"] == 1 and result["stopped"] == "time"


# ---- the server -------------------------------------------------------------------------------
@pytest.mark.parametrize("body, message", [
    ({"config": xor_config(hidden=[9])}, "hidden[0] must be an integer in [1, 8]"),
    ({"config": xor_config(hidden=[2] * 6)}, "hidden must be a list of at most 5"),
    ({"config": xor_config(lr=-1)}, "lr must lie in (0.0, 10.0]"),
    ({"config": xor_config(lr="0.1")}, "lr must be a finite number"),
    ({"config": xor_config(n=10**6)}, "n must be an integer in [1, 1000]"),
    ({"config": xor_config(activation="gelu")}, "unknown activation 'gelu'"),
    ({"config": xor_config(loss="cross_entropy")}, "needs a softmax output"),
    ({"config": xor_config(colour="red")}, "unknown config field(s) ['colour']"),
    ({"config": xor_config(), "extra": 1}, "unknown ['extra']"),
    ({"config": {"dataset": "sin", "output": "softmax", "loss": "cross_entropy"}},
     "a softmax output is for classes"),
    ([1, 2], "must be a JSON object"),
])
def test_bad_requests_get_400_and_a_message(server, body, message):
    status, answer = request(server, "POST", "/api/experiment", body)
    assert status == 400 and message in answer["error"], answer


def test_malformed_json_oversized_bodies_and_weights_are_refused(server):
    status, answer = request(server, "POST", "/api/step", raw=b'{"config": ')
    assert status == 400 and "not valid JSON" in answer["error"]
    status, answer = request(server, "POST", "/api/step", raw=b'{"config": NaN}')
    assert status == 400 and "NaN" in answer["error"]
    with socket.create_connection(server.server_address[:2], timeout=30) as raw:
        # the length is refused before the body is read: announce more than is sent
        raw.sendall(b"POST /api/step HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Length: 2000001\r\n\r\n{}")
        reply = raw.makefile("rb").read().decode()
    assert reply.startswith("HTTP/1.0 400") and "must hold 1 to 2000000 bytes" in reply
    bad_weights = [{"W": [[1.0, 2.0]], "b": [0.0]}]
    status, answer = request(server, "POST", "/api/step",
                             {"config": xor_config(), "weights": bad_weights})
    assert status == 400 and "weights must be a list of 2 layers" in answer["error"]
    status, answer = request(server, "POST", "/api/train", {
        "config": xor_config(), "weights": None, "epoch": 0, "epochs": 501})
    assert status == 400 and "epochs must be an integer in [1, 500]" in answer["error"]


def test_the_page_its_files_and_a_training_request_are_served(server):
    status, page = request(server, "GET", "/")
    assert status == 200 and b"/static/playground.js" in page
    for name in ("playground.js", "playground.css"):
        status, content = request(server, "GET", f"/static/{name}")
        assert status == 200 and len(content) > 1000
    assert request(server, "GET", "/static/../server.py")[0] == 404
    status, new = request(server, "POST", "/api/experiment", {"config": xor_config()})
    assert status == 200 and new["sizes"] == [2, 2, 1]
    status, trained = request(server, "POST", "/api/train", {
        "config": new["config"], "weights": new["weights"], "epoch": 0, "epochs": 200})
    assert status == 200 and trained["correct"] == 4
    assert trained["step"]["values"]["y_1"] < 0.5  # pattern 1 is (0, 0) → 0
    status, model = request(server, "POST", "/api/export",
                            {"config": new["config"], "weights": trained["weights"]})
    assert status == 200


def test_the_model_file_loads_as_the_trained_network(server, tmp_path):
    ex = Experiment(xor_config())
    net = ex.network()
    weights = ex.train(net, 0, 50)["weights"]
    status, model = request(server, "POST", "/api/export",
                            {"config": ex.config, "weights": weights})
    path = tmp_path / "xor.safetensors"
    path.write_bytes(model)
    loaded = dg.load(path)
    assert np.array_equal(dg.predict(loaded, ex.X), dg.predict(net, ex.X))


def test_csv_upload(server):
    status, answer = request(server, "POST", "/api/csv", {"text": "x1,x2,t\n0,1,1\n1,0,0\n"})
    assert status == 200 and answer["points"] == {"X": [[0.0, 1.0], [1.0, 0.0]], "t": [1.0, 0.0]}
    status, answer = request(server, "POST", "/api/csv", {"text": "x,t\n0,a\n"})
    assert status == 400 and "line 2: column 't' is not numeric" in answer["error"]
    status, answer = request(server, "POST", "/api/csv", {"text": "a,b,c,t\n0,1,2,3\n"})
    assert status == 400 and "1 or 2 input columns" in answer["error"]
    config = {"dataset": "csv", "points": {"X": [[0.0], [0.5], [1.0]], "t": [0.1, 0.7, 0.2]},
              "output": "identity", "loss": "sum_of_squares"}
    assert Experiment(config).kind == "regression"


def test_the_server_listens_on_loopback_only_by_default():
    srv = make_server(port=0)
    try:
        assert srv.server_address[0] == "127.0.0.1"
        assert address(srv).startswith("http://127.0.0.1:")
        other = _non_loopback_address()
        if other is not None:
            with pytest.raises(OSError):
                socket.create_connection((other, srv.server_address[1]), timeout=2).close()
    finally:
        srv.server_close()


def _non_loopback_address():
    """This machine's address on its default route (no packet is sent), or None."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routing only
        found = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if found.startswith("127.") else found


def test_the_command_prints_its_address_and_serves_the_page(spawn):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = spawn([sys.executable, "-m", "deltagrad", "playground", "--port", str(port)],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    line = process.stdout.readline()
    assert f"http://127.0.0.1:{port}/" in line
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/")
    assert connection.getresponse().status == 200
    connection.close()
    process.terminate()  # the server's own way out; spawn kills it if that does not end it
    process.wait(timeout=30)


def test_the_package_ships_the_page():
    """The static files are package data, so an installed deltagrad serves them."""
    static = resources.files("deltagrad.playground").joinpath("static")
    names = sorted(entry.name for entry in static.iterdir())
    assert names == ["index.html", "playground.css", "playground.js"]
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert config["tool"]["setuptools"]["package-data"]["deltagrad.playground"] == ["static/*"]


def test_solution_records_carry_each_line_as_the_text_shows_it():
    sol = dg.explain.question(1, lr=0.1)
    lines = {line["key"]: line for section in sol.to_records(4) for line in section["lines"]}
    assert set(lines) == set(sol.to_dict())
    delta = lines["delta^(1)_1"]
    assert delta["value"] == sol["delta^(1)_1"]
    assert delta["working"] and f"=  {delta['working']}" in sol.to_text(4)
