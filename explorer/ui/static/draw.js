// The Draw tab's canvas (explorer/ui/tabs/studio.py): the body of a gr.HTML's js_on_load. Its
// points travel as the component's value, JSON [[x, y], ...]. BOX (the canvas shows [-BOX, BOX]^2),
// MIN and MAX (points a drawing needs and holds) and SIZE (canvas pixels) are defined before it by
// explorer/ui/static.py, from explorer/data/drawing.py.
const SPACING = 6;   // pixels between dabs
const canvas = element.querySelector('.draw-canvas');
const context = canvas.getContext('2d');
const brush = element.querySelector('.draw-brush');
const brushText = element.querySelector('.draw-brush-value');
const counter = element.querySelector('.draw-count');
let strokes = [];       // the points of each press of the mouse: Undo removes the last
let stroke = null;      // the press going on
let hover = null;       // the pointer, in data coordinates (for the brush outline)
let lastDab = null;     // where the stroke last sprayed, in screen pixels
let sent = null;        // the JSON this canvas last sent, to tell it from a value set by Python

const total = () => strokes.reduce((n, s) => n + s.length, 0) + (stroke ? stroke.length : 0);
const radius = () => Number(brush.value);
const clamp = (v) => Math.max(-BOX, Math.min(BOX, v));
const round = (v) => Math.round(v * 1e4) / 1e4;
const toData = (event) => {
  const rect = canvas.getBoundingClientRect();
  return [BOX * (2 * (event.clientX - rect.left) / rect.width - 1),
          BOX * (1 - 2 * (event.clientY - rect.top) / rect.height)];
};
const toPixel = (x, y) => [(x + BOX) / (2 * BOX) * SIZE, (BOX - y) / (2 * BOX) * SIZE];
const add = (x, y) => { if (total() < MAX) stroke.push([round(clamp(x)), round(clamp(y))]); };

function paint() {
  context.fillStyle = '#fff';
  context.fillRect(0, 0, SIZE, SIZE);
  for (let v = -BOX; v <= BOX + 1e-9; v += 0.5) {   // grid: every 0.5, whole numbers darker, axes darkest
    const [p, q] = toPixel(v, v);
    context.strokeStyle = Math.abs(v) < 1e-9 ? '#888' : (Math.abs(v % 1) < 1e-9 ? '#cfcfcf' : '#ececec');
    context.beginPath(); context.moveTo(p, 0); context.lineTo(p, SIZE); context.moveTo(0, q); context.lineTo(SIZE, q);
    context.stroke();
  }
  context.fillStyle = '#777';
  context.font = '11px sans-serif';
  for (let v = -BOX; v <= BOX; v++) {
    if (v === 0) continue;
    const [p, q] = toPixel(v, v);
    context.fillText(String(v), p + 2, SIZE / 2 + 12);
    context.fillText(String(v), SIZE / 2 + 4, q - 2);
  }
  context.fillStyle = '#1f77b4';
  for (const s of (stroke ? strokes.concat([stroke]) : strokes)) {
    for (const [x, y] of s) {
      const [p, q] = toPixel(x, y);
      context.fillRect(p - 2, q - 2, 4, 4);
    }
  }
  if (hover && radius() > 0) {
    const [p, q] = toPixel(hover[0], hover[1]);
    context.strokeStyle = 'rgba(255, 127, 14, 0.8)';
    context.beginPath(); context.arc(p, q, radius() / (2 * BOX) * SIZE, 0, 2 * Math.PI); context.stroke();
  }
  const n = total();
  counter.textContent = n.toLocaleString() + ' points' + (n < MIN ? ' (at least ' + MIN + ' needed)' : '') +
                        (n >= MAX ? ' (the most a drawing holds)' : '');
  brushText.textContent = radius() > 0 ? radius().toFixed(2) : 'single points';
}
function sync() {          // the canvas's value: what "Use these points" sends
  sent = JSON.stringify(strokes.flat());
  props.value = sent;
}
canvas.addEventListener('pointerdown', (event) => {
  if (event.button !== 0) return;
  canvas.setPointerCapture(event.pointerId);
  stroke = [];
  const [x, y] = toData(event);
  add(x, y);                                  // a click adds exactly one point, where it lands
  lastDab = [event.clientX, event.clientY];
  paint();
});
canvas.addEventListener('pointermove', (event) => {
  hover = toData(event);
  if (stroke && Math.hypot(event.clientX - lastDab[0], event.clientY - lastDab[1]) >= SPACING) {
    const r = radius();                       // a drag sprays: 3 points a dab, uniform in the brush's disc
    for (let i = 0; i < (r > 0 ? 3 : 1); i++) {
      const angle = 2 * Math.PI * Math.random(), distance = r * Math.sqrt(Math.random());
      add(hover[0] + distance * Math.cos(angle), hover[1] + distance * Math.sin(angle));
    }
    lastDab = [event.clientX, event.clientY];
  }
  paint();
});
const finish = () => {
  if (!stroke) return;
  if (stroke.length) strokes.push(stroke);
  stroke = null;
  sync();
  paint();
};
canvas.addEventListener('pointerup', finish);
canvas.addEventListener('pointercancel', finish);
canvas.addEventListener('pointerleave', () => { hover = null; paint(); });
brush.addEventListener('input', paint);
element.querySelector('.draw-undo').addEventListener('click', () => { strokes.pop(); sync(); paint(); });
element.querySelector('.draw-clear').addEventListener('click', () => { strokes = []; sync(); paint(); });
const receive = () => {    // a drawing from Python (a starter shape): one stroke, so Undo removes it
  if (props.value === sent) return;
  try {
    const points = JSON.parse(props.value || '[]');
    strokes = Array.isArray(points) && points.length ? [points.slice(0, MAX)] : [];
    sent = props.value;
  } catch (error) { /* not a drawing: keep the canvas as it is */ }
  paint();
};
watch('value', receive);
receive();
