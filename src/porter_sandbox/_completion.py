"""``porter-sandbox completion bash|zsh``: a shell completion script made from the command line's own parser.

Commands and options come from the argparse parser, so the script follows
the command line as it changes; sandbox and volume names are asked of the
server the environment points at (``porter-sandbox ls -q``) as you type.
"""

from __future__ import annotations

import argparse
import shlex

__all__ = ["completion_script"]

#: Commands whose positional argument is a sandbox's name, and the command that lists those names.
_SANDBOX_NAMES = ("exec", "logs", "inspect", "rm")
_VOLUME_NAMES = ("rm",)


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return sorted(option for action in parser._actions for option in action.option_strings)


def _words(values: list[str]) -> str:
    return shlex.quote(" ".join(values))


def completion_script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script for ``shell`` (``bash``, or ``zsh`` through its bash compatibility)."""
    prog = parser.prog
    commands = _subcommands(parser)
    cases = []
    for name, sub in sorted(commands.items()):
        nested = _subcommands(sub)
        if nested:
            inner = []
            for inner_name, inner_parser in sorted(nested.items()):
                names = '$("$1" volumes ls -q 2>/dev/null)' if inner_name in _VOLUME_NAMES else ""
                inner.append(f'            {inner_name}) words={_words(_options(inner_parser))}" {names}" ;;')
            cases.append(
                f"        {name})\n"
                f'            case "${{COMP_WORDS[2]}}" in\n'
                + "\n".join(inner)
                + f"\n            *) words={_words(sorted(nested))} ;;\n            esac ;;"
            )
            continue
        names = '$("$1" ls -q 2>/dev/null)' if name in _SANDBOX_NAMES else ""
        cases.append(f'        {name}) words={_words(_options(sub))}" {names}" ;;')
    body = "\n".join(cases)
    function = f"_{prog.replace('-', '_')}_complete"
    script = f"""# {prog} completion for {shell}: eval "$({prog} completion {shell})"
{function}() {{
    local current="${{COMP_WORDS[COMP_CWORD]}}" words
    if [ "$COMP_CWORD" -le 1 ]; then
        words={_words([*sorted(commands), *_options(parser)])}
    else
        case "${{COMP_WORDS[1]}}" in
{body}
        *) words="" ;;
        esac
    fi
    COMPREPLY=($(compgen -W "$words" -- "$current"))
}}
complete -F {function} {prog}
"""
    if shell == "zsh":
        script = "autoload -U +X compinit && compinit\nautoload -U +X bashcompinit && bashcompinit\n" + script
    return script
