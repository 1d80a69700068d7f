#!/usr/bin/env bash
# Regenerates testdata/manifests/ with the real GNU coreutils and b3sum, so the
# parser's seeds and golden cases are what the tools write, not what we think
# they write. Run from go/testdata: bash gen.sh
#
# Needs b2sum and cksum (GNU coreutils), b3sum (cargo install b3sum). SHA-3,
# SHA2-N and base64 digests need a cksum from GNU coreutils 9.7 or newer
# (9.1 has none of them): CKSUM=/path/to/cksum bash gen.sh. The committed
# files were written by b3sum 1.8.7, GNU 9.1's b2sum and GNU 9.10's cksum.
set -euo pipefail
cksum=${CKSUM:-cksum}
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
# Issue 18: the algorithms today's tools write besides the *sum ones.
b2sum -- "${files[@]}" > "$out/b2sum.txt"
b2sum --tag -- "${files[@]}" > "$out/b2sum-tag.txt"
b2sum -l 256 -- "${files[@]}" > "$out/b2sum-l256.txt"
b2sum -l 8 --tag -- "${files[@]}" > "$out/b2sum-l8-tag.txt"
"$cksum" -a blake2b -l 160 -- "${files[@]}" > "$out/cksum-blake2b-160.txt"
b3sum -- "${files[@]}" > "$out/b3sum.txt"
b3sum --tag -- "${files[@]}" > "$out/b3sum-tag.txt"
if "$cksum" -a sha3 -l 256 /dev/null > /dev/null 2>&1; then
  for l in 224 256 384 512; do
    "$cksum" -a sha3 -l "$l" -- "${files[@]}" > "$out/sha3-$l-tag.txt"
    "$cksum" -a sha3 -l "$l" --untagged -- "${files[@]}" > "$out/sha3-${l}sum.txt"
  done
  "$cksum" -a sha2 -l 384 -- "${files[@]}" > "$out/sha2-384-tag.txt"
  "$cksum" -a sha256 --base64 -- "${files[@]}" > "$out/sha256-base64-tag.txt"
  "$cksum" -a md5 --base64 -- "${files[@]}" > "$out/md5-base64-tag.txt"
  "$cksum" -a blake2b -l 248 --base64 -- "${files[@]}" > "$out/blake2b-248-base64-tag.txt"
  "$cksum" -a sha3 -l 384 --base64 -- "${files[@]}" > "$out/sha3-384-base64-tag.txt"
  "$cksum" -a sha512 --base64 --untagged -- "${files[@]}" > "$out/sha512-base64-untagged.txt"
else
  echo "gen.sh: $cksum has no -a sha3 (GNU coreutils < 9.7): SHA-3 and base64 manifests not regenerated" >&2
fi
