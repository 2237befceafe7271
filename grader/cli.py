"""The ``dlgrade`` command: its parser, built from the verbs' modules
(``grader/commands/``), and what every command shares: the secret seed moved
out of the command line, one-line usage errors, exit statuses, Ctrl-C.

Only the standard library is imported before ``main`` has parsed the command
line: it may have to restart the process before anything else happens (see
``seed_out_of_argv``)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback

from grader.exits import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, DeclarationError, version

# Each verb, and its module under grader/commands/ (its name, with "_" for "-").
VERBS = ("list", "check", "grade", "grade-batch", "generate", "demo", "export", "report")


def verb_module(verb: str):
    return importlib.import_module(f"grader.commands.{verb.replace('-', '_')}")


class _Parser(argparse.ArgumentParser):
    """A mistake on the command line is one line, naming the option; --help
    has the rest (argparse's default prints the whole usage first)."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    # No abbreviated options: `--se S` would be a --seed that seed_out_of_argv does not see.
    parser = _Parser(prog="dlgrade", description="Autograder for a hands-on deep-learning course.", allow_abbrev=False)
    parser.add_argument("--version", action="version", version=f"dlgrade {version()}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="COMMAND")
    for verb in VERBS:
        module = verb_module(verb)
        module.add_arguments(verbs.add_parser(verb, help=module.HELP, description=module.HELP, allow_abbrev=False))
    return parser


SEED_OPTION = "--seed"


def seed_out_of_argv(args: list[str]) -> tuple[list[str], str | None]:
    """``args`` without its ``--seed VALUE`` and ``--seed=VALUE`` (options
    end at ``--``), and the value argparse would take (the last one); None
    when there is none. A blank value stays where it is, for the parser's
    caller to refuse: it reveals nothing. A value that starts with ``-`` after
    a separate ``--seed`` is left to argparse too, which takes it for an option."""
    rest, value = [], None
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i:]
            break
        if arg == SEED_OPTION and i + 1 < len(args) and args[i + 1].strip() and not args[i + 1].startswith("-"):
            value, i = args[i + 1], i + 2
            continue
        if arg.startswith(SEED_OPTION + "=") and arg.split("=", 1)[1].strip():
            value, i = arg.split("=", 1)[1], i + 1
            continue
        rest.append(arg)
        i += 1
    return (rest, value) if value is not None else (args, None)


def restart_without_seed(value: str, args: list[str]) -> None:
    """Replace this process by one started the same way (same interpreter and
    options, same script or ``-m``, so the same sys.path) with the seed in
    ``$DLGRADE_SEED``, which only this user can read, instead of in the command
    line, which ``/proc/<pid>/cmdline`` shows to every user for as long as the
    grading runs."""
    os.environ["DLGRADE_SEED"] = value
    given = sys.argv[1:]
    started_as = sys.orig_argv[:len(sys.orig_argv) - len(given)]  # interpreter, its options, the script or -m grader
    if sys.orig_argv[len(started_as):] != given:  # sys.argv was changed in this process: start the package
        started_as = [sys.executable, "-m", "grader"]
    sys.stdout.flush()
    sys.stderr.flush()
    # argv[0] is the interpreter's full path: from a bare "python3", Python would look itself up on PATH and might
    # find another installation.
    os.execv(sys.executable, [sys.executable, *started_as[1:], *args])


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        rest, seed = seed_out_of_argv(sys.argv[1:])
        if seed is not None:
            try:
                restart_without_seed(seed, rest)
            except OSError as e:
                print(f"dlgrade: cannot restart without the seed on the command line ({e.strerror or e}); give it "
                      f"with DLGRADE_SEED_FILE instead", file=sys.stderr)
                return EXIT_INTERNAL
    args = build_parser().parse_args(argv)
    try:
        return verb_module(args.verb).run(args)
    except KeyboardInterrupt:  # grade-batch handles its own; here the sandboxes closed on the way out
        print(f"dlgrade {args.verb}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except DeclarationError as e:  # the course's suites, not the submission nor the command line
        print(f"dlgrade {args.verb}: a suite is broken: {e}", file=sys.stderr)
        return EXIT_INTERNAL
    except BrokenPipeError:
        # The reader went away (`dlgrade list | head`): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception:  # noqa: BLE001 - a bug of the grader itself: say so, keep the trace for the maintainers
        print(f"dlgrade {args.verb}: internal error in the grader (not in the submission):", file=sys.stderr)
        traceback.print_exc()
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
