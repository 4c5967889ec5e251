"""Push: the outbox, subscriptions, signed deliveries, pausing, capacity and retention."""
