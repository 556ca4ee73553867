"""Kept answers of read-only commands (pipeline/replay.py): the `editorial` program run as a
user runs it, whose answer must always be the one the command computes now."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ManualRepo
from history_fixture import build_history, chapter, cp2_text, publish

from pipeline import replay

EDITORIAL = Path(sys.executable).with_name("editorial")


def run(manual: ManualRepo, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(EDITORIAL), *args], cwd=manual.root, capture_output=True,
                          text=True, env={**os.environ, **env})


def kept(manual: ManualRepo) -> dict[str, int]:
    """Kept answer files -> their inode (a new inode: the answer was computed again)."""
    folder = manual.root / ".git" / "editorial" / "replay"
    return {p.name: p.stat().st_ino for p in folder.glob("*.out")} if folder.is_dir() else {}


def settle() -> None:
    """Let the last edits age past the window in which stat data is not trusted."""
    time.sleep(replay.RACY_NS / 1e9 + 0.1)


def assert_true_answer(manual: ManualRepo, *args: str) -> subprocess.CompletedProcess[str]:
    """The program's answer (perhaps replayed) is the command's answer computed now."""
    program = run(manual, *args)
    computed = manual.run(*args)
    assert program.returncode == computed.exit_code == 0, program.stderr
    assert program.stdout == computed.stdout
    return program


def test_a_repeated_command_is_replayed_and_stays_true_through_every_kind_of_change(
        manual: ManualRepo) -> None:
    build_history(manual)
    settle()
    first = assert_true_answer(manual, "blame", "CP1")
    files = kept(manual)
    assert len(files) == 1
    again = run(manual, "blame", "CP1")
    assert again.stdout == first.stdout and again.returncode == 0
    assert kept(manual) == files  # printed from the kept answer, not computed again

    # An edit that keeps the file's size, made long after the answer was kept.
    path = manual.root / "procedures" / "part-a" / "cp1.md"
    text = path.read_text(encoding="utf-8")
    edited = text.replace("within one working day", "within one working week")
    assert edited != text
    path.write_text(edited, encoding="utf-8")
    after_edit = assert_true_answer(manual, "blame", "CP1")
    assert after_edit.stdout != first.stdout
    assert "working week" in after_edit.stdout

    # Back to the committed text: the answer is the first one again.
    manual.git("checkout", "--", "procedures/part-a/cp1.md")
    assert assert_true_answer(manual, "blame", "CP1").stdout == first.stdout

    # A new published release (a commit, a tag and a record) changes `log`.
    settle()
    before = assert_true_answer(manual, "log")
    chapter(manual, "CP2", "Referral and Assessment", cp2_text("extrafamilial harm",
                                                               "\n        1.4 New duty.\n"))
    publish(manual, "2025-03", "2025-03-20", base="2024-09")
    after = assert_true_answer(manual, "log")
    assert "2025-03" in after.stdout and "2025-03" not in before.stdout

    # The manual's settings.
    settle()
    assert_true_answer(manual, "log")
    config = manual.root / "editorial.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("Test Procedures",
                                                                 "Test Procedure"))
    assert_true_answer(manual, "changes", "--from", "2024-09", "--to", "2025-03")


def test_nothing_is_kept_while_its_files_are_too_new_to_trust(manual: ManualRepo) -> None:
    build_history(manual)  # its last commit was made moments ago
    assert_true_answer(manual, "log")
    assert kept(manual) == {}


def test_failed_commands_are_never_kept_and_replay_can_be_turned_off(
        manual: ManualRepo) -> None:
    build_history(manual)
    settle()
    for _ in range(2):
        failed = run(manual, "blame", "CP99")
        assert failed.returncode == 2
        assert failed.stderr.startswith("Error: ")
    assert kept(manual) == {}
    assert run(manual, "log", EDITORIAL_REPLAY="0").returncode == 0
    assert run(manual, "log", EDITORIAL_CACHE="0").returncode == 0
    assert kept(manual) == {}
    assert run(manual, "log").returncode == 0
    assert len(kept(manual)) == 1


def test_other_folders_and_options_have_answers_of_their_own(manual: ManualRepo) -> None:
    build_history(manual)
    settle()
    inside = assert_true_answer(manual, "log", "CP1")
    outside = subprocess.run([str(EDITORIAL), "-C", str(manual.root), "log", "CP1", "--json"],
                             cwd=manual.root.parent, capture_output=True, text=True)
    assert outside.returncode == 0 and outside.stdout != inside.stdout
    assert outside.stdout == manual.run("log", "CP1", "--json").stdout
    assert len(kept(manual)) == 2


def test_a_kept_answer_for_another_command_line_is_never_read() -> None:
    answer = replay.Answer((("/m/procedures", "1 2 3 4 5"), ("/m/gone", "-")), b"out\n",
                           b"warning\n")
    data = replay.encode("key one", answer)
    back = replay.decode("key one", data)
    assert back is not None
    assert (back.watched, back.stdout, back.stderr) == (answer.watched, b"out\n", b"warning\n")
    assert replay.decode("key two", data) is None  # a file name shared by two keys
    assert replay.decode("key one", data[:-1]) is None  # a damaged file


def test_only_read_only_commands_on_fixed_refs_are_replayed(manual: ManualRepo) -> None:
    def planned(*argv: str, **env: str) -> bool:
        return replay.plan(list(argv), str(manual.root), env, (False, False)) is not None

    assert planned("blame", "CP1") and planned("-C", ".", "log")
    assert planned("diff", "2023-03", "2024-03") and planned("changes", "--json")
    assert not planned("annotate", "--all")  # writes notes
    assert not planned("publish") and not planned("check") and not planned("--version")
    assert not planned("diff", "main@{yesterday}", "main")  # names another commit tomorrow
    assert not planned("log", EDITORIAL_REPLAY="0") and not planned("log", EDITORIAL_CACHE="0")
    assert replay.plan(["log"], str(manual.root.parent), {}, (False, False)) is None


def test_kept_answers_are_bounded_in_number_and_size(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "replay"
    long_ago = time.time_ns() + 10 * replay.RACY_NS
    for n in range(5):
        plan = replay.Plan(f"key {n}", str(folder / f"{n}.out"), str(tmp_path), str(tmp_path))
        assert replay.keep(plan, replay.Answer((), b"x" * (2000 if n == 4 else 10), b""), 0,
                           long_ago)
        os.utime(folder / f"{n}.out", ns=(n * 10**9, n * 10**9))  # 4 is the newest
    monkeypatch.setattr(replay, "KEEP", 3)
    replay._prune(str(folder))
    assert sorted(p.name for p in folder.iterdir()) == ["2.out", "3.out", "4.out"]
    sizes = {p.name: p.stat().st_size for p in folder.iterdir()}
    monkeypatch.setattr(replay, "KEEP_BYTES", sizes["4.out"] + sizes["3.out"])
    replay._prune(str(folder))
    assert sorted(p.name for p in folder.iterdir()) == ["3.out", "4.out"]
