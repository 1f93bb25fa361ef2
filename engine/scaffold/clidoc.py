"""Generate docs/cli.md -- the CLI reference -- from the click objects themselves.

``python -m golive.scaffold.clidoc > docs/cli.md`` rewrites it; a test compares the file with
this output, so the reference cannot drift from the code. Every command and group of
``golive`` is listed (depth first, in name order) with its usage line, help text, arguments
and options (type, default, environment variable).
"""
from __future__ import annotations

import sys

import click

HEADER = """# golive command-line reference

Generated from the click commands by `python -m golive.scaffold.clidoc > docs/cli.md`; a test
fails when this page and the code disagree. `golive COMMAND --help` prints the same text.

Exit codes, for CI: **0** every selected requirement verified (pass or waived), **1** gaps or
failures (or tampered evidence in `golive evidence verify`), **2** input or usage errors.
"""


def root_command() -> click.Group:
    """``golive`` with every command mounted; the plugin group is added if the CLI lacks it."""
    from golive.cli import cli
    from golive.scaffold import plugin

    if "plugin" not in cli.commands:
        group = click.Group(name=cli.name, commands=dict(cli.commands), params=list(cli.params),
                            help=cli.help, context_settings=cli.context_settings)
        group.add_command(plugin)
        return group
    return cli


def _help_text(text: str | None) -> str:
    """Click's help markup to Markdown: ``\\b`` blocks become code blocks."""
    if not text:
        return ""
    paragraphs = [p.strip("\n") for p in text.strip().split("\n\n")]
    rendered = []
    for paragraph in paragraphs:
        lines = [line.rstrip() for line in paragraph.splitlines()]
        if lines and lines[0].strip() == "\b":
            body = [line for line in lines[1:]]
            indent = min((len(x) - len(x.lstrip()) for x in body if x.strip()), default=0)
            rendered.append("```\n" + "\n".join(x[indent:] for x in body) + "\n```")
        else:
            rendered.append(" ".join(line.strip() for line in lines))
    return "\n\n".join(rendered)


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _metavar(param: click.Parameter, ctx: click.Context) -> str:
    try:
        return param.make_metavar(ctx)
    except TypeError:  # click < 8.2 takes no context
        return param.make_metavar()  # type: ignore[call-arg]


def _option_row(param: click.Option, ctx: click.Context) -> str:
    names = ", ".join(f"`{n}`" for n in [*param.opts, *param.secondary_opts])
    if param.is_flag:
        kind = "flag"
    elif isinstance(param.type, click.Choice):
        kind = " \\| ".join(f"`{c}`" for c in param.type.choices)
    else:
        kind = f"`{_metavar(param, ctx)}`".replace("|", "\\|")
    if param.multiple:
        kind += " (repeatable)"
    default = ""
    value = param.default
    # click >= 8.3 marks "no default" with a sentinel object rather than None
    unset = type(value).__name__ == "Sentinel" or value in (None, False, (), "")
    if not unset and not callable(value):
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value)
        default = f"`{value}`"
    help_text = param.help or ""
    if param.envvar:
        envvars = param.envvar if isinstance(param.envvar, (list, tuple)) else [param.envvar]
        help_text += " Environment: " + ", ".join(f"`{e}`" for e in envvars) + "."
    return f"| {names} | {kind} | {default} | {_cell(help_text)} |"


def _command_section(command: click.Command, path: list[str], parent: click.Context | None) -> list[str]:
    ctx = click.Context(command, info_name=path[-1], parent=parent)
    level = "#" * min(len(path) + 1, 4)
    out = [f"{level} `{' '.join(path)}`", ""]
    pieces = command.collect_usage_pieces(ctx)
    out += ["```", f"{' '.join(path)} {' '.join(pieces)}".rstrip(), "```", ""]
    text = _help_text(command.help)
    if text:
        out += [text, ""]
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    if arguments:
        out += ["Arguments: " + ", ".join(
            f"`{_metavar(a, ctx)}`"
            + ("" if a.required else " (optional)") for a in arguments), ""]
    options = [p for p in command.params if isinstance(p, click.Option) and not p.hidden]
    if options:
        out += ["| option | value | default | meaning |", "|---|---|---|---|"]
        out += [_option_row(o, ctx) for o in options]
        help_names = ", ".join(f"`{n}`" for n in ctx.help_option_names)
        out += [f"| {help_names} | flag | | Show the help and exit. |", ""]
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            sub = command.commands[name]
            if not sub.hidden:
                out += _command_section(sub, [*path, name], ctx)
    return out


def generate() -> str:
    root = root_command()
    commands = sorted(root.commands)
    toc = ["Commands: " + " · ".join(f"`golive {c}`" for c in commands), ""]
    lines = [HEADER, *toc, *_command_section(root, ["golive"], None)]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(generate())
