#!/bin/bash
PY=/work/wt-pushcap/.venv/bin/python
for round in 1 2; do
  for side in base mine; do
    if [ $side = base ]; then dir=/tmp/pushcap-base; mod=bench.store_http_ab; else dir=/work/wt-pushcap; mod=bench.store_http; fi
    echo "=== round $round subs 4 $side $(uptime | sed 's/.*load/load/')"
    (cd $dir && $PY -m $mod --subscriptions 4 2>&1 | tail -2)
  done
done
