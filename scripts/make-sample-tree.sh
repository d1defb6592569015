#!/bin/bash
# Builds a sample "production NAS" tree for the demo and the tests:
#   TARGET/alpha   the big project: most files, nested folders, a few large files
#   TARGET/beta, TARGET/gamma   smaller projects
#   TARGET/odd     hostile names: leading dash, option-like, spaces, glob, newline, non-UTF-8
#   TARGET/README.txt and a symlink directly under the source
# Usage: make-sample-tree.sh TARGET [SCALE]   (SCALE multiplies the file counts, default 1)
set -euo pipefail
target=${1:?usage: make-sample-tree.sh TARGET [SCALE]}
scale=${2:-1}
if [ -e "$target" ]; then echo "make-sample-tree: $target already exists" >&2; exit 1; fi
mkdir -p "$target"

# small_files DIR COUNT: COUNT files of 100 B to 4 KB
small_files() {
    local dir=$1 count=$2 i
    mkdir -p "$dir"
    for ((i = 0; i < count; i++)); do
        head -c $(( (i * 7919) % 4000 + 100 )) /dev/urandom >"$dir/shot_$i.meta"
    done
}

for shot in $(seq 1 $((8 * scale))); do
    small_files "$target/alpha/edit/reel_$((shot % 4))/shot_$shot" 60
done
head -c 20000000 /dev/urandom >"$target/alpha/edit/master_v1.mov"
head -c 12000000 /dev/urandom >"$target/alpha/edit/master_v2.mov"
small_files "$target/alpha/audio" 40
for p in beta gamma; do
    for d in $(seq 1 $((2 * scale))); do small_files "$target/$p/assets/set_$d" 50; done
    head -c 4000000 /dev/urandom >"$target/$p/render.mp4"
done
mkdir -p "$target/gamma/empty_folder"

odd="$target/odd"
mkdir -p "$odd"
for name in "--delete" "-e sh -c 'touch pwned'" " leading space" "*" "quote\"s and 'apostrophes'" \
            'back\slash' "new
line" "carriage$(printf '\r')return" "$(printf 'latin1-\xe9t\xe9')" "caf$(printf '\xc3\xa9')"; do
    printf 'odd name\n' >"$odd/$name"
done
mkdir -p "$target/-project with dash"
printf 'dash project\n' >"$target/-project with dash/file"
printf 'sample production tree\n' >"$target/README.txt"
ln -s alpha/edit "$target/latest-edit"
echo "make-sample-tree: $(find "$target" | wc -l) entries, $(du -sh "$target" | cut -f1) in $target"
