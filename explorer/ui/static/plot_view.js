// A Plotly chart that redraws in place (explorer/ui/plot_view.py): the body of a gr.HTML's
// js_on_load. FIRST_VIEW (the first view's mark) is defined before it by explorer/ui/static.py.
const target = element.querySelector('.energylab-plot');
let drawn = null;   // the figure JSON on the chart: the same value again is not redrawn
const draw = () => {
  let value = props.value;
  if (!value) return;
  if (value.startsWith(FIRST_VIEW)) {   // the default pair's first view, in the page itself
    if (window.location.search) return;  // a link names its own state: its load event brings it
    value = value.slice(FIRST_VIEW.length);
  }
  if (value === drawn) return;
  drawn = value;
  // Charts are drawn one at a time, in the order their values came, each in its own task: the
  // browser shows each chart as soon as it is drawn (a new page's landscape before the side plots,
  // sooner: docs/speed.md). A value overtaken by a newer one before its turn is skipped.
  window.energylabDraws = (window.energylabDraws || Promise.resolve())
    .then(() => new Promise((resolve) => setTimeout(resolve, 0)))
    .then(() => {
      if (drawn !== value) return;
      const figure = JSON.parse(value);
      // what the figure shows (figures/style.py IMAGES): page.css hides the controls that do not apply
      target.dataset.kind = (figure.layout.meta && figure.layout.meta.kind) || '';
      repoint();
      return window.Plotly.react(target, {data: figure.data, layout: figure.layout, frames: figure.frames || [],
                                          config: {responsive: true, displaylogo: false}}).then(listen);
    })
    .catch((error) => console.error('EnergyLab: a chart could not be drawn', error));
};
// digits: hovering a point that carries its 8 x 8 image (0-16 levels) shows that image, pixelated
const zoom = document.createElement('canvas');
zoom.width = zoom.height = 96;
zoom.style.cssText = 'position:absolute;top:40px;right:30px;display:none;border:1px solid #999;' +
  'image-rendering:pixelated;background:white;z-index:10';
element.style.position = 'relative';
element.appendChild(zoom);
let listening = false;
const listen = () => {
  if (listening || typeof target.on !== 'function') return;
  listening = true;
  target.on('plotly_hover', (event) => {
    const pixels = event.points[0].customdata;
    if (!pixels || pixels.length !== 64) return;
    const tile = document.createElement('canvas');
    tile.width = tile.height = 8;
    const tileContext = tile.getContext('2d');
    const image = tileContext.createImageData(8, 8);
    for (let i = 0; i < 64; i++) {
      const level = 255 - Math.round(pixels[i] * 255 / 16);
      image.data.set([level, level, level, 255], i * 4);
    }
    tileContext.putImageData(image, 0, 0);
    const context = zoom.getContext('2d');
    context.imageSmoothingEnabled = false;
    context.drawImage(tile, 0, 0, 96, 96);
    zoom.style.display = 'block';
  });
  target.on('plotly_unhover', () => { zoom.style.display = 'none'; });
};
// Plotly writes colour bar gradients and clip paths as url(<address>#id) when the page has a
// <base> (Gradio's has), with the address the chart was first drawn at. Once link.js rewrites the
// address, those name another document: the next redraw (a resize, a zoom) leaves a blank colour
// bar. So the chart's references follow the address: before each drawing and when it changes.
const address = () => window.location.href.split('#')[0];
const reference = /url\((['"]?)[^'")#]*#/g;
const repoint = () => {
  const context = target._context;
  if (!context || !context._baseUrl || context._baseUrl === address()) return;   // no <base>: url(#id)
  context._baseUrl = address();
  const rewrite = (_, quote) => 'url(' + quote + context._baseUrl + '#';
  for (const node of target.querySelectorAll('[style*="url("], [clip-path], [fill^="url("], [mask]')) {
    for (const name of ['style', 'clip-path', 'fill', 'mask']) {
      const old = node.getAttribute(name);
      if (old && old.includes('url(')) node.setAttribute(name, old.replace(reference, rewrite));
    }
  }
};
window.addEventListener(ADDRESS_EVENT, repoint);
window.addEventListener('popstate', repoint);
const whenLoaded = () => (window.Plotly ? draw() : setTimeout(whenLoaded, 50));
whenLoaded();
watch('value', () => (window.Plotly ? draw() : whenLoaded()));
