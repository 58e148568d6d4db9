from __future__ import annotations

from scheduler.app import celery as app


def test_a_real_worker_answers_on_the_private_redis_db(worker, redis_url):
    assert app.conf.broker_url == redis_url
    result = app.send_task("celery.ping")
    assert result.get(timeout=10) == "pong"
