// A Train request carries how old the page's last real click on its button (id BUTTON) is, in ms, when
// Gradio sends it: a click held while the last stream ran is sent later (explorer/page/train_clicks.py).
// The page's head script (train_clicks.html) notes each click; Gradio's re-sending of a held one is not a click.
(...values) => {
  const inputs = values.slice(0, INPUTS);
  const clicked = (window.energylabClicked || {})[BUTTON];
  inputs[INPUTS - 1] = clicked === undefined ? null : Math.max(0, Date.now() - clicked);
  return inputs;
}
