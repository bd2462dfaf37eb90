// The link travels in the address bar: replaceState keeps it current without a new history entry.
// Gradio's own query keys (?view=api, ?__theme=dark) are kept as they were; FOREIGN_KEYS
// (explorer/page/links.py) and ADDRESS_EVENT (explorer/ui/plot_view.py) are bound by explorer/ui/static.py.
(query) => {
  const url = new URL(window.location.href);
  if (typeof query === 'string') {
    const keep = [...url.searchParams].filter(([key]) => key.startsWith('__') || FOREIGN_KEYS.includes(key));
    url.search = query;
    for (const [key, value] of keep) url.searchParams.append(key, value);
    window.history.replaceState(window.history.state, '', url);
    window.dispatchEvent(new Event(ADDRESS_EVENT));   // the charts re-point their gradients (plot_view.js)
  }
  return url.href;
}
