"""Push: events about firms' matches, written in the same transaction, delivered signed.

Writing events:  outbox (events and their deliveries), capacity (pending caps, fan-out),
                 subscriptions (targets, sealed secrets), local_addresses, retention (pruning).
Delivering:      deliver (the worker loop, one lane per subscription) runs claim (leases) ->
                 sign (one signed POST, via transport) -> settle (record, retry, dead, 410),
                 with attempt_errors (what a failure is recorded as) and pausing (hosts that
                 stop resolving); wake cuts a worker's wait short after a write.
Reading:         feed (the event feed and an event's deliveries), redelivery.
Watching:        metrics (the worker's counters), gauges (the outbox as seen in the database).
"""
