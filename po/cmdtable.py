#!/usr/bin/env python3
"""po/cmdtable.py - the command table's args and help strings, for xgettext

node/cli.c's kr_commands[] holds plain literals ({ "name", fn, FLAGS,
"args", "help" }), so that entries merge as one line each. This prints a
file with as many lines as node/cli.c in which each table line becomes
N_("args") N_("help") at the same line number (every other line empty),
so that xgettext's references can be rewritten to node/cli.c:LINE.
Usage: po/cmdtable.py node/cli.c > build/po/cmdtable.c
"""
import re
import sys

LIT = r'"(?:[^"\\]|\\.)*"'
ROW = re.compile(r'^\s*\{\s*(' + LIT + r')\s*,\s*\w+\s*,\s*[\w|\s]+,\s*(' + LIT + r')\s*,\s*(' + LIT + r')\s*\}\s*,')


def main():
    src = open(sys.argv[1], encoding="utf-8").read().split("\n")
    inside = False
    out = []
    for line in src:
        text = ""
        if "kr_commands[] = {" in line:
            inside = True
        elif inside and line.startswith("};"):
            inside = False
        elif inside:
            m = ROW.match(line)
            if m:
                args, help_ = m.group(2), m.group(3)
                text = " ".join("N_(%s);" % s for s in (args, help_) if s != '""')
        out.append(text)
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()
