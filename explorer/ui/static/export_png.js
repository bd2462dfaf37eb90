// Export as PNG: drawn by the browser from the chart on the page (a PNG on the server would need
// kaleido and a Chrome); returns the line the export note shows.
(which) => {
  const chart = document.querySelector('#' + which + ' .js-plotly-plot');
  if (!chart || !window.Plotly || !chart._fullLayout) {
    return 'The ' + which + ' figure has not been drawn yet: open its tab and draw it first.';
  }
  const title = document.querySelector('#landscape .gtitle');
  const step = title && title.textContent.match(/step ([\d,]+)/);
  const name = 'energylab-' + which + (step ? '-step' + step[1].replace(/,/g, '') : '');
  window.Plotly.downloadImage(chart, {format: 'png', filename: name, scale: 2,
                                      width: chart._fullLayout.width || 900, height: chart._fullLayout.height || 600});
  return name + '.png: drawn by your browser.';
}
