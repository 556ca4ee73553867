"""Config discovery, `init`, and `release start` / `release list`."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from conftest import ManualRepo

from pipeline.cli import cli
from pipeline.config import find_root, load_config


def test_init_makes_a_manual_in_a_git_repo(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "m"), "--name", "City Procedures"])
    assert result.exit_code == 0, result.output
    assert result.output == f"Made a manual 'City Procedures' in {tmp_path / 'm'}\n"
    assert (tmp_path / "m" / ".git").is_dir()
    assert load_config(tmp_path / "m").name == "City Procedures"


def test_init_refuses_an_existing_manual(manual: ManualRepo) -> None:
    result = CliRunner().invoke(cli, ["init", str(manual.root), "--name", "X"])
    assert result.exit_code == 2
    assert result.output == f"Error: {manual.root / 'editorial.toml'}: already a manual " \
                            "(editorial.toml exists)\n"


def test_config_is_found_by_walking_up(manual: ManualRepo) -> None:
    deep = manual.root / "procedures" / "part-a"
    deep.mkdir(parents=True)
    assert find_root(deep) == manual.root


def test_unknown_config_key_warns_with_a_hint(manual: ManualRepo) -> None:
    with (manual.root / "editorial.toml").open("a") as handle:
        handle.write('\n')
    text = (manual.root / "editorial.toml").read_text().replace(
        'publisher =', 'publsher = "x"\npublisher =')
    (manual.root / "editorial.toml").write_text(text)
    result = manual.run("release", "list")
    assert result.exit_code == 0
    assert "Warning: editorial.toml: unknown key 'publsher' (did you mean 'publisher'?)" \
        in result.output


def test_broken_config_names_file_and_line(manual: ManualRepo) -> None:
    (manual.root / "editorial.toml").write_text('name = "x"\nparts = [\n')
    result = manual.run("release", "list")
    assert result.exit_code == 2
    assert result.output.startswith("Error: editorial.toml:")
    assert "invalid TOML" in result.output


def test_not_a_manual(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["-C", str(tmp_path), "changes"])
    assert result.exit_code == 2
    assert result.output == f"Error: {tmp_path}: not a manual (no editorial.toml)\n"


def test_release_start_and_list(manual: ManualRepo) -> None:
    manual.chapter("CP1", "Recognising Abuse and Neglect", "1.1 Text.")
    manual.commit("first")
    manual.tag("v1")
    result = manual.run("release", "start", "2023-09", "--date", "2023-09-01", "--base", "v1")
    assert result.exit_code == 0, result.output
    assert result.output == "Started release 2023-09 (September 2023, 2023-09-01), base v1\n"
    record = (manual.root / "releases" / "2023-09" / "release.toml").read_text()
    assert 'title = "September 2023"' in record
    assert 'status = "draft"' in record
    listing = manual.run("release", "list")
    assert listing.output == "2023-09      draft      2023-09-01  September 2023\n"


def test_first_release_has_no_base(manual: ManualRepo) -> None:
    result = manual.run("release", "start", "2023-03", "--date", "2023-03-01")
    assert result.output == ("Started release 2023-03 (March 2023, 2023-03-01), "
                             "base (none: first release)\n")


def test_release_start_refuses_bad_input(manual: ManualRepo) -> None:
    assert manual.run("release", "start", "../x").output == (
        "Error: invalid release id '../x' (letters, digits, '.', '-', '_'; such as 2023-09)\n")
    assert manual.run("release", "start", "r1", "--date", "Sept").output == (
        "Error: invalid date 'Sept' (use YYYY-MM-DD)\n")
    assert manual.run("release", "start", "r1", "--base", "nope").output == (
        "Error: unknown git ref or release 'nope'\n")
    manual.run("release", "start", "r1")
    again = manual.run("release", "start", "r1")
    assert again.exit_code == 2
    assert again.output == "Error: releases/r1/release.toml: release 'r1' already exists\n"


def test_release_list_json(manual: ManualRepo) -> None:
    manual.run("release", "start", "2024-03", "--date", "2024-03-01", "--title", "Spring")
    result = manual.run("release", "list", "--json")
    assert '"id": "2024-03"' in result.output
    assert '"title": "Spring"' in result.output
