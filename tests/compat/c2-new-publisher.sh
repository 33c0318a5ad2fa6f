#!/bin/sh
# c2 - a publisher on this release (KAIRAN), towns on the old one
# (KAIRAN_OLD): first sync, announced thin packs, fetches, consolidation in
# layers on both sides, a fresh old town's first sync after this release's
# publisher consolidated (tests/compat/wire.sh).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"
PK=$KAIRAN PWHO="this release's publisher"
TK=$KAIRAN_OLD TWHO="a town on the old release"
. "$(dirname "$0")/wire.sh"
