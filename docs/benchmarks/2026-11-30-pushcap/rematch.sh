#!/bin/bash
PY=/work/wt-pushcap/.venv/bin/python
for round in 1 2 3; do
  for side in base mine; do
    dir=/tmp/pushcap-base; [ $side = mine ] && dir=/work/wt-pushcap
    echo "=== round $round $side"
    (cd $dir && $PY -m bench.rematch --firms 50000 2>&1 | tail -4)
  done
done
echo "=== mine, cap at the default 10000"
(cd /work/wt-pushcap && $PY -m bench.rematch --firms 50000 --max-pending 10000 2>&1 | tail -4)
