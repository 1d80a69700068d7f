#!/usr/bin/env bash
# Regenerates testdata/manifests/ with the real GNU coreutils, so the parser's
# seeds and golden cases are what *sum writes, not what we think it writes.
# Run from go/testdata: bash gen.sh
set -euo pipefail
out=$PWD/manifests
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
printf 'hello\n' > plain.txt
printf '' > empty
printf 'spaces' > 'name with  spaces'
printf 'tab' > "$(printf 'tab\tname')"
printf 'nl' > "$(printf 'new\nline')"
printf 'bs' > 'back\slash'
printf 'uni' > 'unicodé ✓'
printf 'star' > '*star'
printf 'lead' > ' leading'
files=(plain.txt empty 'name with  spaces' "$(printf 'tab\tname')" "$(printf 'new\nline')" 'back\slash' 'unicodé ✓' '*star' ' leading')
for a in md5 sha1 sha224 sha256 sha384 sha512; do
  "${a}sum" -- "${files[@]}" > "$out/${a}sum.txt"
  "${a}sum" --tag -- "${files[@]}" > "$out/${a}-tag.txt"
done
sha256sum -b -- plain.txt empty > "$out/binary-mode.sha256"
sha256sum -- plain.txt | sed 's/$/\r/' > "$out/crlf.sha256"
{ echo '# a comment'; echo; sha1sum plain.txt; } > "$out/comment-blank.sha1"
{ md5sum --tag plain.txt; sha1sum --tag empty; sha512sum --tag plain.txt; } > "$out/mixed-tags.txt"
