"""The plot views keep one entry per session however often a stream skips and then updates them
(explorer.ui.plot_view.PlotView works around a Gradio 6.31 leak; see its docstring)."""
import socket

import gradio as gr
import gradio_client
import pytest

from explorer.ui import plot_view


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stream():
    for i in range(60):   # as a live run sends its curves: a figure on some frames, skipped on the others
        yield ('{"data": [], "layout": {}}' if i % 3 == 0 else gr.skip()), str(i)


@pytest.mark.parametrize("view", ["plotly_view", "plain_html"])
def test_a_stream_that_skips_and_updates_a_plot_files_nothing_new_in_the_session(view):
    with gr.Blocks() as demo:
        plot = (plot_view.plotly_view("soak-plot", 200) if view == "plotly_view" else
                gr.HTML(None, html_template="<div></div>", elem_id="plain"))
        text = gr.Textbox()
        gr.Button().click(stream, None, [plot, text], api_name="go")
    port = free_port()
    demo.queue().launch(prevent_thread_lock=True, server_port=port, quiet=True)
    try:
        client = gradio_client.Client(f"http://127.0.0.1:{port}/", verbose=False)
        client.predict(api_name="/go")
        (session,) = demo.state_holder.session_data.values()
        filed = len(session.blocks_config.blocks)
        client.predict(api_name="/go")
        grown = len(session.blocks_config.blocks) - filed
    finally:
        demo.close()
    if view == "plotly_view":
        assert grown == 0
    else:   # the leak PlotView works around is still there in plain gr.HTML: if this fails, Gradio fixed it
        assert grown == 20
