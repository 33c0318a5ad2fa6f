#!/bin/sh
# c1 - a publisher on the old release (KAIRAN_OLD), towns on this one
# (KAIRAN): first sync, announced thin packs, fetches, consolidation in
# layers on both sides, a fresh town after it (tests/compat/wire.sh).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"
PK=$KAIRAN_OLD PWHO="the old publisher"
TK=$KAIRAN TWHO="a town on this release"
. "$(dirname "$0")/wire.sh"
