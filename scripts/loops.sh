#!/bin/sh
# Reference loops between files of different folders: file A calls (or reads)
# a symbol defined in file B, and B one defined in A. Read off the objects of
# a build (default build/) with nm, so every call counts, through headers or
# not. Prints each loop; exits 1 when there is one.
set -e
dir=${1:-build}
objs=$(find "$dir/src" "$dir/layers" "$dir/losses" "$dir/optim" "$dir/data" -name '*.o' | sort)
[ -n "$objs" ] || { echo "loops: no objects under $dir (build first)"; exit 2; }
# shellcheck disable=SC2086
nm -A $objs | awk -v dir="$dir/" '
    { split($1, f, ":"); file = f[1]; sub("^" dir, "", file); sub(/\.o$/, ".c", file) }
    NF == 3 && $2 ~ /^[TDBRC]$/ { def[$3] = file; next }
    NF == 2 && $1 ~ /:$/ && $2 != "" { next }
    $2 == "U" { use[file, $3] = 1; users[$3] = users[$3] " " file }
    END {
        for (k in use) {
            split(k, p, SUBSEP); a = p[1]; s = p[2]
            if (!(s in def)) continue
            b = def[s]
            if (a == b) continue
            edge[a, b] = edge[a, b] ? edge[a, b] : s
        }
        bad = 0
        for (k in edge) {
            split(k, p, SUBSEP); a = p[1]; b = p[2]
            if (a >= b || !((b, a) in edge)) continue
            da = a; sub(/\/[^\/]*$/, "", da); db = b; sub(/\/[^\/]*$/, "", db)
            if (da == db) continue
            printf "loop: %s uses %s of %s, which uses %s of it\n", a, edge[a, b], b, edge[b, a]
            bad = 1
        }
        exit bad
    }'
echo "loops: none between files of different folders"
