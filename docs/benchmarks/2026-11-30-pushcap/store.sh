#!/bin/bash
PY=/work/wt-pushcap/.venv/bin/python
for round in 1 2; do
  for subs in 0 4; do
    for side in base mine; do
      if [ $side = base ]; then dir=/tmp/pushcap-base; mod=bench.store_http_ab; else dir=/work/wt-pushcap; mod=bench.store_http; fi
      echo "=== round $round subs $subs $side"
      (cd $dir && $PY -m $mod --subscriptions $subs 2>&1 | tail -2)
    done
  done
done
