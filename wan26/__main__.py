import sys

try:
    from wan26.cli import main

    code = main()
except KeyboardInterrupt:  # Ctrl-C while the command was still loading; a run reports its own
    print("wan26: interrupted", file=sys.stderr)
    code = 130
sys.exit(code)
