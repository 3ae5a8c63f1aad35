"""The main job: `deltagrad tour` writes a report whose every image exists and renders."""

import html
import html.parser
import pathlib
import re
import shutil
import subprocess

import numpy as np
import pytest

from deltagrad import tour
from deltagrad.cli import main

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
PROBE = """<script>
window.addEventListener('load', function () {
  var bad = [];
  for (var i = 0; i < document.images.length; i++) {
    var im = document.images[i];
    if (!im.complete || im.naturalWidth === 0) bad.push(im.getAttribute('src'));
  }
  var out = document.createElement('pre');
  out.textContent = 'PROBE:' + document.images.length + ':' + JSON.stringify(bad);
  document.body.appendChild(out);
});
</script>"""


class _Images(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources.append(dict(attrs)["src"])


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("tour")
    assert main(["tour", "--quick", "--out", str(out)]) == 0
    return out


CHAPTERS = {  # module name → the figures its section writes at --quick size
    "feedforward": ["universal_approximation"],
    "training": ["error_functions", "ravine", "hessian_spectrum"],
    "worked_examples": [],
    "regularisation": ["learning_curves", "early_stopping_vs_weight_decay", "model_selection",
                       "invariance"],
    "logic": [],
    "convolution": ["edge_detectors", "cnn_filters"],
    "recurrent": ["unfolded_graph", "adding_problem", "jacobian_norms", "char_lstm_curve"],
    "attention": ["attention_maps", "char_models_curves"],
    "exercises": []}


def _sections(page: str) -> dict:
    """The page cut at its <h2 id=...> headings: {title: html of that section}."""
    parts = re.split(r'<h2 id="s\d+">', page)[1:]
    return {part.split(" <small>")[0]: part for part in parts}


def test_quick_tour_writes_every_section_and_image(report):
    page = (report / "index.html").read_text(encoding="utf-8")
    parser = _Images()
    parser.feed(page)
    assert len(parser.sources) >= 6
    for source in parser.sources:
        assert (report / source).stat().st_size > 5_000, source
    readme = (report / "README.md").read_text(encoding="utf-8")
    assert readme.count("![") == len(parser.sources)
    assert "0.754534" in page  # practice question 1's y, computed by the tour
    assert "not converged" in page  # --quick says so


@pytest.mark.parametrize("name", list(CHAPTERS))
def test_each_chapter_runs_and_writes_its_figures(report, name):
    """At --quick size each chapter's section is on the page under its numbered title, in
    the notes' order, with the figures it draws written as PNG files."""
    page = (report / "index.html").read_text(encoding="utf-8")
    section = next(s for s in tour.SECTIONS if tour.name_of(s) == name)
    html_ = _sections(page)[html.escape(tour.title_of(section))]
    for figure in CHAPTERS[name]:
        assert f'src="figures/{figure}.png"' in html_, figure
        assert (report / "figures" / f"{figure}.png").stat().st_size > 5_000, figure


def test_sections_follow_the_notes_order_with_a_table_of_contents(report):
    page = (report / "index.html").read_text(encoding="utf-8")
    titles = list(_sections(page))
    numbers = [t.split()[0] for t in titles[:-1]]
    assert numbers == ["1", "2", "3", "4", "5–6", "7", "8–10", "11"]
    assert titles[-1].startswith("Exercises")
    contents = page[page.index("<nav>"):page.index("</nav>")]
    for title in titles:
        assert title in contents
    for sub in ("2.1 The error functions and their probabilistic reading",
                "4.5 Invariance: four roads compared on moved digits",
                "A character-level language model (chapters 9–10 at work)"):
        anchor = re.search(r'<h3 id="([^"]+)">' + re.escape(sub), page).group(1)
        assert f'href="#{anchor}"' in contents
    readme = (report / "README.md").read_text(encoding="utf-8")
    assert "## Contents" in readme and "  - 2.1 The error functions" in readme


def test_names_are_written_as_the_notes_write_them(report):
    """δ, not "delta", in tables, code and text alike; the tracer's a^(1)_1 style throughout."""
    page = (report / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"delta[\^_]", page) and "dE/dw" not in page
    assert "δ^(1)_1" in page and "∂E/∂w^(1)_11" in page and "a^(1)_1" in page


def test_the_page_renders_in_headless_chromium(report, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (make test installs Debian's chromium when it "
                    "can: apt-get as root); the page was checked without a browser")
    check = report / "check.html"
    check.write_text((report / "index.html").read_text(encoding="utf-8")
                     .replace("</body>", PROBE + "</body>"), encoding="utf-8")
    profile = tmp_path / "profile"
    run = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                          "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000",
                          "--dump-dom", check.as_uri()],
                         capture_output=True, text=True, timeout=120)
    probe = [line for line in run.stdout.splitlines() if "PROBE:" in line and "+" not in line]
    assert probe, f"the probe did not run: {run.stderr[-2000:]}"
    count, broken = probe[-1].split("PROBE:")[1].split(":", 1)
    assert int(count) >= 6 and broken.startswith("[]"), probe[-1]
    assert "CONSOLE" not in run.stderr, [line for line in run.stderr.splitlines()
                                         if "CONSOLE" in line]
    shot = tmp_path / "tour.png"
    subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                    "--window-size=1100,4000", f"--screenshot={shot}",
                    (report / "index.html").as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 50_000
    pathlib.Path(check).unlink()


def test_the_page_shows_each_sections_running_time_and_only_the_data_sets_used(report):
    page = (report / "index.html").read_text(encoding="utf-8")
    assert len(re.findall(r"<small>chapters? [^<]* · \d+\.\d s</small>", page)) == 9
    intro = re.search(r"<p>(Every number.*?)</p>", page).group(1)
    assert "(diabetes, breast cancer, digits)" in intro and "wine" not in intro


def test_list_names_every_section(capsys):
    assert main(["tour", "--list"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert names == [tour.name_of(s) for s in tour.SECTIONS]
    assert names == list(CHAPTERS)


@pytest.mark.parametrize("name", ["logic", "exercises", "convolution"])
def test_a_section_runs_alone(name, tmp_path, capsys):
    """``--only NAME`` runs that chapter group and no other (the convolution section trains
    chapter 4's CNN itself when chapter 4 did not run); the intro names only the data sets it
    loads; a progress line per section goes to stderr."""
    assert main(["tour", "--quick", "--only", name, "--out", str(tmp_path)]) == 0
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert page.count("<h2 ") == 1
    if name in ("logic", "exercises"):  # truth tables and drawn numbers, no data set
        assert "bundled data sets" not in page
    err = capsys.readouterr().err
    assert re.search(r"tour \[1/1\] .* …\ntour \[1/1\] done in \d+\.\d s \(CPU \d+\.\d s\)",
                     err), err


def test_only_is_repeatable_and_refuses_unknown_names(tmp_path, capsys):
    assert main(["tour", "--quick", "--only", "logic", "--only", "worked_examples",
                 "--out", str(tmp_path)]) == 0
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert page.index("3 Error backpropagation") < page.index("Logic with perceptrons")
    assert main(["tour", "--only", "convolutions"]) == 2
    assert "--only: unknown section 'convolutions'; expected one of ['feedforward'" \
        in capsys.readouterr().err


def test_sections_are_plain_imported_functions():
    assert all(callable(s) and s.__name__ == "section" for s in tour.SECTIONS)
    assert not hasattr(tour, "importlib")


def test_every_readme_table_renders_as_a_table(report):
    """report/README.md parsed by a CommonMark renderer with GFM tables: as many tables as the
    HTML page, each with the page's number of rows and columns; captions are emphasis with no
    stray asterisks."""
    markdown_it = pytest.importorskip("markdown_it")
    rendered = markdown_it.MarkdownIt("commonmark").enable("table").render(
        (report / "README.md").read_text(encoding="utf-8"))
    page = (report / "index.html").read_text(encoding="utf-8")
    ours, theirs = _tables(rendered), _tables(page)
    assert len(ours) == len(theirs) > 0
    assert [(len(t), len(t[0])) for t in ours] == [(len(t), len(t[0])) for t in theirs]
    assert [t[0] for t in ours] == [t[0] for t in theirs]  # the same headers, cell by cell
    captions = re.findall(r"<(?:fig)?caption>(.*?)</(?:fig)?caption>", page, flags=re.S)
    emphasised = re.findall(r"<p><em>(.*?)</em></p>", rendered, flags=re.S)
    assert len(emphasised) == len(captions)  # each caption one emphasis, none broken up
    for ours_caption, caption in zip(emphasised, captions):
        assert _plain(ours_caption) == _plain(caption)


def _plain(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def _tables(html_text: str) -> list:
    """Each table as a list of rows, each a list of cell texts (tags stripped)."""
    tables = []
    for table in re.findall(r"<table>(.*?)</table>", html_text, flags=re.S):
        table = re.sub(r"<caption>.*?</caption>", "", table, flags=re.S)
        rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)
        tables.append([[re.sub(r"<[^>]+>", "", cell).strip() for cell in
                        re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)]
                       for row in rows])
    return tables


def test_an_untrained_models_bits_per_character_are_those_of_a_near_uniform_guess():
    """Both language models' bits per character at initialisation are close to log2 of the
    vocabulary (a near-uniform prediction): a per-character loss divided by the window length
    once too often (as after the mean cross-entropy became per token, caught in a full tour
    that printed 0.040 bits per character) would be 64 times smaller; and fit_char_model's
    first training value says the same."""
    from deltagrad.data import text as corpus
    from deltagrad.tour import language

    data = language.load(quick=True)
    uniform = np.log2(data.vocab.size)
    for kind, model in (("LSTM", language.lstm(data, hidden=16)),
                        ("transformer", language.transformer(data, embed=16, layers=1))):
        assert 0.8 * uniform < language.bits(kind, model, data, data.test[:1500]) < 1.3 * uniform
    model = corpus.char_model(data.vocab.size, hidden_size=16)
    first = corpus.fit_char_model(model, data.vocab, data.train[:5000], steps=1, T=32)[0]
    assert 0.8 * uniform < first < 1.3 * uniform
