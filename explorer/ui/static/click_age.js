// A Train request carries, in its last two inputs, how old the page's last real click on its button
// (id BUTTON) and its last click on any of HALTS (Pause, Stop) are, in ms, when Gradio sends it: a click
// held while the last stream ran is sent later, and counts only after a Pause or Stop
// (explorer/page/train_clicks.py). Both ages are read here at one instant, on the page's one clock.
// The page's head script (train_clicks.html) notes each click; Gradio's re-sending of a held one is not a click.
(...values) => {
  const inputs = values.slice(0, INPUTS);
  const clicked = window.energylabClicked || {};
  const now = Date.now();
  const age = (id) => (clicked[id] === undefined ? null : Math.max(0, now - clicked[id]));
  const halts = HALTS.map(age).filter((halt) => halt !== null);
  inputs[INPUTS - 2] = age(BUTTON);
  inputs[INPUTS - 1] = halts.length ? Math.min(...halts) : null;
  return inputs;
}
