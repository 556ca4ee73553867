"""A manual's own templates/: overriding a built-in one by file name (extends and include
still work), and `check_templates`, which `editorial check` runs, naming file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_render_support import Sample, build, copy_sample, git_identity, visible_text

from pipeline.convert import PDF_HELP
from pipeline.manual import open_manual
from pipeline.releases import load_release
from pipeline.render import builtin_dir, builtin_names, check_templates


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    base = tmp_path_factory.mktemp("templates")
    with git_identity(base / "home"):
        return build(base / "manual")


@pytest.fixture
def sample(built: Sample, tmp_path: Path) -> Sample:
    return copy_sample(built, tmp_path / "manual")


def problems(sample: Sample) -> list[str]:
    manual = open_manual(sample.root)
    return check_templates(manual, load_release(manual.config, "r2"))


def test_builtin_templates_ship_inside_the_package() -> None:
    assert builtin_dir().name == "templates"
    assert {"base.html.j2", "bulletin.html.j2", "chapter.html.j2", "complete-list.html.j2",
            "feed-entry.html.j2", "index.html.j2", "macros.html.j2", "part.html.j2",
            "style.css"} <= set(builtin_names())


def test_a_manual_overrides_a_template_by_file_name(sample: Sample, tmp_path: Path) -> None:
    sample.repo.write("templates/bulletin.html.j2", """\
{% extends "base.html.j2" %}
{% import "macros.html.j2" as m with context %}
{% block content %}
<h1>Board edition: {{ release.month_year }}</h1>
{% for part in bulletin %}{% for chapter in part.chapters %}{% for e in chapter.entries %}
{{ m.entry(e) }}
{% endfor %}{% endfor %}{% endfor %}
{% endblock %}
""")
    sample.repo.write("templates/style.css", "h1 { color: #aa0000; }\n")
    assert problems(sample) == []
    result = sample.repo.run("render", "--out", str(tmp_path / "out"), "--formats", "html")
    assert result.exit_code == 0, result.output
    page = (tmp_path / "out/bulletin.html").read_text()
    assert visible_text(page).startswith("Board edition: September 2023 ")
    assert '<h1 style="color: #aa0000;">' in page  # the manual's CSS, inlined
    assert "The definition of safeguarding now includes early help" in visible_text(page)
    # Other documents keep the built-in templates, with the manual's CSS.
    assert "color: #aa0000" in (tmp_path / "out/chapters/CP1.html").read_text()


def test_templates_are_read_from_the_commit_rendered(sample: Sample, tmp_path: Path) -> None:
    sample.repo.write("templates/bulletin.html.j2",
                      '{% extends "base.html.j2" %}{% block content %}Committed'
                      "{% endblock %}\n")
    sample.repo.commit("own bulletin")
    sample.repo.write("templates/bulletin.html.j2",
                      '{% extends "base.html.j2" %}{% block content %}Not committed'
                      "{% endblock %}\n")
    head = sample.repo.git("rev-parse", "HEAD")
    result = sample.repo.run("render", "--at", head, "--release", "r2", "--out",
                             str(tmp_path / "out"), "--formats", "html")
    assert result.exit_code == 0, result.output
    assert visible_text((tmp_path / "out/bulletin.html").read_text()) == "Committed"


def test_check_names_file_and_line_of_a_syntax_error(sample: Sample) -> None:
    sample.repo.write("templates/bulletin.html.j2",
                      '{% extends "base.html.j2" %}\n{% block content %}\n{{ release.title }\n'
                      "{% endblock %}\n")
    assert problems(sample) == [
        "templates/bulletin.html.j2:3: unexpected '}'"]


def test_check_names_file_and_line_of_an_unknown_variable(sample: Sample) -> None:
    sample.repo.write("templates/chapter.html.j2",
                      '{% extends "base.html.j2" %}\n{% block content %}\n'
                      "<h1>{{ chapter.titel }}</h1>\n{% endblock %}\n")
    assert problems(sample) == [
        "templates/chapter.html.j2:3: 'pipeline.view.ChapterView object' has no attribute "
        "'titel'"]


def test_check_points_out_a_misspelt_template_name(sample: Sample) -> None:
    sample.repo.write("templates/buletin.html.j2", "<p>mine</p>\n")
    sample.repo.write("templates/partials/footer.html.j2", "<p>a partial of its own</p>\n")
    assert problems(sample) == [
        "templates/buletin.html.j2: overrides no built-in template (did you mean "
        "'bulletin.html.j2'?)"]


def test_check_runs_through_editorial_check(sample: Sample) -> None:
    sample.repo.write("templates/index.html.j2", "{% for x in %}\n")
    result = sample.repo.run("check")
    assert result.exit_code == 1
    assert ("templates/index.html.j2:1: Expected an expression, got 'end of statement "
            "block'\n") in result.stdout
    assert result.stderr == "Error: 1 problem in release r2\n"


def test_pdf_without_an_engine_says_how_to_get_one(sample: Sample, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # A PATH with git on it and nothing else: no PDF engine, whatever this machine has.
    bare = tmp_path / "bin"
    bare.mkdir()
    (bare / "git").symlink_to(shutil.which("git") or "/usr/bin/git")
    monkeypatch.setenv("PATH", str(bare))
    result = sample.repo.run("render", "--out", str(tmp_path / "out"), "--formats",
                             "html,pdf")
    assert result.exit_code == 0, result.output
    assert f"Warning: {PDF_HELP}\n" in result.stderr
    assert not list((tmp_path / "out").glob("*.pdf"))
    assert (tmp_path / "out/bulletin.html").is_file()
