#!/bin/bash
# The man pages render without warnings, and no line ends in a hyphen at 60, 80 or 100
# columns: identifiers such as --filter or BytesTotal must never be split (".nh").
# Usage: man_pages.sh DOCS_MAN_DIR
set -euo pipefail
dir=${1:?usage: man_pages.sh DOCS_MAN_DIR}
status=0
for page in "$dir"/*.[0-9]; do
    for width in 60 80 100; do
        warnings=$(groff -man -Tutf8 -ww -z -rLL="${width}n" "$page" 2>&1 >/dev/null || true)
        if [ -n "$warnings" ]; then echo "$page at $width columns: groff warns: $warnings"; status=1; fi
        split=$(groff -man -Tutf8 -P-cbu -rLL="${width}n" "$page" 2>/dev/null | grep -n '[[:alnum:]][‐-]$' || true)
        if [ -n "$split" ]; then printf '%s at %s columns: hyphenated line ends:\n%s\n' "$page" "$width" "$split"; status=1; fi
    done
done
[ $status = 0 ] && echo "man pages: no warnings, no hyphenated words"
exit $status
