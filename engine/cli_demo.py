"""``golive demo``: build the demo trading workspaces, run the whole plan on each, and have the
demo firm's approvers sign each run off (golive.demo_signoff)."""
from __future__ import annotations

import shutil
from pathlib import Path

import click

from golive.cli import InputError, err, out


@click.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path), default=Path("golive-demo"))
@click.option("--profile", type=click.Choice(["seed", "healthy", "degraded", "all"]), default="healthy",
              show_default=True,
              help="seed: the reference report's repository only; healthy: with data, records, logs and "
                   "configs, mostly passing; degraded: with known faults injected; all: each of them, "
                   "in DIRECTORY/<profile>.")
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed of the generated data.")
@click.option("--force", is_flag=True, help="Replace DIRECTORY if it exists.")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), default=4, show_default=True)
def demo(directory: Path, profile: str, seed: int, force: bool, jobs: int) -> None:
    """Build the demo trading workspace in DIRECTORY and run the whole plan on it.

    Writes DIRECTORY/workspace (the trading repository), DIRECTORY/evidence (the signed ledger),
    DIRECTORY/golive-results.json and the PDF report DIRECTORY/golive-report.pdf, whose path it
    prints. The demo firm's approvers sign each run off (GO, or NO-GO naming what blocks it)
    with demo keys in DIRECTORY/people, outside the store, under the sign-off policy of
    DIRECTORY/signoff.tailoring.yaml. Two demo witnesses (keys and state in DIRECTORY/witnesses)
    run on loopback while the demo records its runs and cosign each run's checkpoint; the
    store's golive-store.toml names them. Exit code 0 when the demo ran (its gaps are the
    point), 2 on input errors.
    """
    from golive import demo as demo_ws
    from golive.demo_witnesses import DemoWitnesses

    if directory.exists() and any(directory.iterdir()):
        if not force:
            raise InputError(f"{directory} exists and is not empty; pass --force to replace it or choose another folder")
        shutil.rmtree(directory)
    from golive.demo_signoff import DEMO_PASSPHRASE

    profiles = demo_ws.PROFILES if profile == "all" else (profile,)
    pdfs = []
    with DemoWitnesses(directory / "witnesses") as witnesses:  # shut down on leaving, also on error
        if witnesses.problem:
            err.print(f"[yellow]warning:[/] {witnesses.problem}", highlight=False)
        for name in profiles:
            folder = directory / name if profile == "all" else directory
            pdfs.append(_demo_profile(folder, name, seed, jobs, demo_ws, directory / "people", witnesses))
    out.print(f"demo approvers' keys: {(directory / 'people').resolve()} (passphrase '{DEMO_PASSPHRASE}': "
              "demo keys, never use them for a real sign-off)", highlight=False, soft_wrap=True)
    if not witnesses.problem:
        out.print(f"demo witnesses' keys and state: {witnesses.folder.resolve()} (demo only; their vkeys are in "
                  "each demo store's golive-store.toml)", highlight=False, soft_wrap=True)
    for name, pdf in zip(profiles, pdfs):
        out.print(f"[bold]demo done[/] ({name}): PDF report {pdf.resolve()}")
    out.print(f"browse the demo runs: golive users add admin --role admin --store {(store := (directory / profiles[-1] if profile == 'all' else directory) / 'evidence')} && golive serve --store {store}", highlight=False, soft_wrap=True)


def _demo_profile(directory: Path, profile: str, seed: int, jobs: int, demo_ws, people: Path, witnesses) -> Path:
    from golive import demo_signoff
    from golive.cli_run import _null, execute_run  # cli_run imports this module

    directory.mkdir(parents=True, exist_ok=True)
    workspace = directory / "workspace"
    with err.status(f"building the {profile} demo workspace", spinner="dots") if err.is_terminal else _null():
        try:
            built = demo_ws.build(workspace, profile, seed)
        except demo_ws.DemoError as exc:
            raise InputError(str(exc))
    err.print(f"demo workspace ({profile}): {workspace}")
    for family, faults in built.injected.items():
        err.print(f"  injected {family} faults: {', '.join(faults)}")
    pdf = directory / "golive-report.pdf"
    _witnessed(witnesses, directory / "evidence")

    def signed_off(recorder, doc):  # the demo firm's approvers sign the recorded run
        from golive.ledger import KeyFileError, LedgerError

        try:
            state = demo_signoff.sign_off(recorder, doc, people)
        except (KeyFileError, LedgerError, OSError) as exc:  # the run stands; its page says it awaits sign-off
            err.print(f"[yellow]warning:[/] the demo's sign-off failed: {exc}", highlight=False)
            return
        decisions = ", ".join(f"{s['decision'].upper()} by {s['name']} ({s['role']})" for s in state["signatures"])
        err.print(f"demo sign-off ({profile}): {decisions}", highlight=False, soft_wrap=True)

    # the demo shows gaps on purpose: its exit code reports whether the demo itself ran
    # checks judge ages (backups, drills, logs) against the demo's own "now", so a given seed
    # gives the same results on any day
    execute_run(workspace, None, (), jobs, directory / "golive-results.json", demo_signoff.write_tailoring(directory),
                300.0, report_path=pdf, store_dir=directory / "evidence", clock=lambda: demo_ws.DEMO_NOW,
                after_recorded=signed_off)
    return pdf


def _witnessed(witnesses, store: Path) -> None:
    """The demo's witnesses trust the store's log and its golive-store.toml names them; a
    problem is a warning (the run is then not witnessed), never a failed demo."""
    from golive.ledger import KeyFileError, LedgerError, StoreError

    try:
        witnesses.configure(store)
    except (KeyFileError, LedgerError, StoreError, OSError) as exc:
        err.print(f"[yellow]warning:[/] the demo's witnesses were not set up for {store}: {exc}", highlight=False)
