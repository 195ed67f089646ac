"""labkit.teaching.chunked: chunked training, stop, async yielding."""

import asyncio

import pytest

from labkit.teaching.chunked import ChunkedTrainer


def test_run_in_chunks_calls_back_after_each_chunk():
    seen = []
    t = ChunkedTrainer(lambda i: i * 1.0, total_steps=10, chunk_size=4,
                       on_chunk=lambda tr: seen.append(tr.step), progress=False)
    assert t.run(5) == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert seen == [4, 5]
    t.run()
    assert t.history == [float(i) for i in range(10)]
    assert seen == [4, 5, 9, 10] and t.done


def test_stop_ends_the_run():
    t = ChunkedTrainer(lambda i: i, total_steps=100, chunk_size=3, progress=False)

    def on_chunk(tr):
        if tr.step >= 6:
            tr.stop()

    t.on_chunk = on_chunk
    t.run()
    assert t.step == 6 and t.stopped and t.done


def test_async_run_yields_between_chunks_so_a_stop_click_is_handled():
    order = []

    async def main():
        t = ChunkedTrainer(lambda i: order.append(("step", i)), total_steps=1000, chunk_size=5,
                           progress=False)
        task = t.start()

        async def click_stop():
            await asyncio.sleep(0)          # runs between two chunks: the loop yielded
            order.append(("stop", t.step))
            t.stop()

        await asyncio.gather(task, click_stop())
        return t

    t = asyncio.run(main())
    assert t.stopped
    stops = [s for kind, s in order if kind == "stop"]
    # The click ran between two chunks (the loop yielded) and training ended right there.
    assert stops and stops[0] % 5 == 0 and 0 < stops[0] < 1000
    assert t.step == stops[0]


def test_widget_and_progress_bar():
    t = ChunkedTrainer(lambda i: 0.0, total_steps=4, chunk_size=2, progress=True)
    box = t.widget
    assert [b.description for b in box.children[:2]] == ["Start", "Stop"]
    t.run()
    assert t._bar.n == 4
    assert t._stop_button.disabled and t._start_button.disabled
    assert t._status.value == "finished 4 steps"


def test_start_button_starts_the_background_run():
    async def main():
        t = ChunkedTrainer(lambda i: i, total_steps=10, chunk_size=2, progress=False)
        start, stop = t.widget.children[:2]
        start.click()
        assert t.task is not None and start.disabled and not stop.disabled
        await t.task
        return t

    t = asyncio.run(main())
    assert t.step == 10 and t._stop_button.disabled


def test_widget_speaks_the_kernels_language():
    from labkit import i18n

    try:
        i18n.set_language("zh_CN")
        t = ChunkedTrainer(lambda i: 0.0, total_steps=4, chunk_size=2)
        box = t.widget
        assert [b.description for b in box.children[:2]] == ["开始", "停止"]
        assert box.children[2].value == "第 0 步，共 4 步"
        t.run()
        assert t._status.value == "已完成 4 步"
    finally:
        i18n.set_language(None)


def test_bad_input():
    with pytest.raises(TypeError, match="step_fn"):
        ChunkedTrainer(3, total_steps=2)
    with pytest.raises(ValueError, match="total_steps"):
        ChunkedTrainer(lambda i: i, total_steps=0)
    with pytest.raises(ValueError, match="chunk_size"):
        ChunkedTrainer(lambda i: i, total_steps=2, chunk_size=True)


def test_progress_bar_shows_each_chunk_at_once():
    """tqdm skips displays closer together than its mininterval; every chunk refreshes it."""
    t = ChunkedTrainer(lambda i: 0.0, total_steps=100, chunk_size=10, progress=True)
    t.run(10)
    shown = []
    t._bar.refresh = lambda *a, **k: shown.append(t._bar.n)
    t.run(20)
    assert shown == [20, 30]
