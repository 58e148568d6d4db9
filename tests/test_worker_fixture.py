from __future__ import annotations

from scheduler.app import celery as app


def test_a_real_worker_answers_on_the_private_redis_db(worker, redis_url):
    assert app.conf.broker_url == redis_url
    result = app.send_task("celery.ping")
    assert result.get(timeout=10) == "pong"


def test_a_db_that_a_leftover_worker_still_reads_is_never_claimed():
    import redis

    from tests.support import services

    admin = redis.Redis.from_url(f"{services.REDIS_SERVER}/0")
    taken = {int(client["db"]) for client in admin.client_list()}
    free = next(
        n for n in range(1, 16) if n not in taken and not admin.exists(f"scout-test-lock:{n}")
    )
    # A process of a killed test run: connected to the db, holding no lock.
    leftover = redis.Redis.from_url(f"{services.REDIS_SERVER}/{free}")
    leftover.ping()
    try:
        with services.private_redis_db() as url:
            assert not url.endswith(f"/{free}")
        assert not admin.exists(f"scout-test-lock:{free}")
    finally:
        leftover.close()
        admin.close()
