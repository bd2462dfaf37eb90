// Export as HTML: of the page's figures, send only the chosen one (a fine landscape is ~1 MB).
// FIGURE_VIEWS (the figures' ids, in the order of the inputs) is bound by explorer/ui/static.py.
(session, which, ...rest) => {
  const figures = rest.slice(0, FIGURE_VIEWS.length);
  return [session, which, ...figures.map((figure, i) => (FIGURE_VIEWS[i] === which ? figure : null))];
}
