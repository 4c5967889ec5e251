"""SQLite writes of the service wait for a thread of the same process without holding the loop."""

import asyncio
import threading
import time
from pathlib import Path

from sqlalchemy import text

from service.core.database import make_engine, run_write, write_transaction


def test_a_write_waiting_for_an_import_thread_leaves_the_loop_free(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
    holding = threading.Event()

    def import_batch() -> None:  # as an import job stores a batch: the process's write lock held
        with write_transaction(engine) as connection:
            connection.execute(text("INSERT INTO t VALUES (1)"))
            holding.set()
            time.sleep(0.5)

    async def scenario() -> tuple[int, float]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        beat = asyncio.create_task(ticker())
        started = time.perf_counter()
        await run_write(engine, lambda c: c.execute(text("INSERT INTO t VALUES (2)")))
        waited = time.perf_counter() - started
        beat.cancel()
        return ticks, waited

    batch = threading.Thread(target=import_batch)
    batch.start()
    holding.wait()
    ticks, waited = asyncio.run(scenario())
    batch.join()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar_one() == 2
    engine.dispose()
    assert waited > 0.2  # it did wait for the batch …
    assert ticks >= 10  # … while the loop went on (held, it would not have ticked at all)
