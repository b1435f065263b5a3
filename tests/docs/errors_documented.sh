#!/usr/bin/env bash
# Every code in CT_ERR_MAP (lib/core/err.h) has a "## CT_E_NAME (number)" section in
# docs/errors.md with the same number.
set -u
ERR_H=$1 DOC=$2
missing=0
while read -r name num; do
    if ! grep -q "^## CT_E_${name} (${num})\$" "$DOC"; then
        echo "docs/errors.md has no section '## CT_E_${name} (${num})'"
        missing=$((missing + 1))
    fi
done < <(sed -n 's/^ *X(\([A-Z]*\), *\(-[0-9]*\),.*/\1 \2/p' "$ERR_H")
count=$(sed -n 's/^ *X(\([A-Z]*\), *\(-[0-9]*\),.*/\1/p' "$ERR_H" | wc -l)
[ "$count" -gt 0 ] || { echo "no codes found in $ERR_H"; exit 1; }
echo "$count codes, $missing undocumented"
exit $((missing > 0))
