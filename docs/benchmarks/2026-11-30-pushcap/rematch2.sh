#!/bin/bash
PY=/work/wt-pushcap/.venv/bin/python
for side in base mine base mine; do
  dir=/tmp/pushcap-base; [ $side = mine ] && dir=/work/wt-pushcap
  echo "=== $side $(uptime | sed 's/.*load/load/')"
  (cd $dir && $PY -m bench.rematch --firms 50000 2>&1 | tail -3 | head -2)
done
