// Browser viewer of a spinesim run, bundled by tools/build-web-viewer into
// dist/viewer.min.js, which `spinesim export-web` inlines after the run's data
// (<script id="spinesim-data" type="application/json">, written by viz/web_export.cpp).
// Only the vtk.js modules used here are imported, and only the WebGL back end, so the
// bundle stays small.
import '@kitware/vtk.js/Rendering/OpenGL/Actor';
import '@kitware/vtk.js/Rendering/OpenGL/Camera';
import '@kitware/vtk.js/Rendering/OpenGL/PolyDataMapper';
import '@kitware/vtk.js/Rendering/OpenGL/Renderer';
import '@kitware/vtk.js/Rendering/OpenGL/SphereMapper';
import vtkOpenGLRenderWindow from '@kitware/vtk.js/Rendering/OpenGL/RenderWindow';
import vtkRenderWindow from '@kitware/vtk.js/Rendering/Core/RenderWindow';
import vtkRenderer from '@kitware/vtk.js/Rendering/Core/Renderer';
import vtkRenderWindowInteractor from '@kitware/vtk.js/Rendering/Core/RenderWindowInteractor';
import vtkInteractorStyleTrackballCamera from '@kitware/vtk.js/Interaction/Style/InteractorStyleTrackballCamera';
import vtkActor from '@kitware/vtk.js/Rendering/Core/Actor';
import vtkMapper from '@kitware/vtk.js/Rendering/Core/Mapper';
import vtkSphereMapper from '@kitware/vtk.js/Rendering/Core/SphereMapper';
import vtkPolyData from '@kitware/vtk.js/Common/DataModel/PolyData';
import vtkDataArray from '@kitware/vtk.js/Common/Core/DataArray';

/// Base64 of little-endian binary (what the exporter writes) as a typed array.
function decode(b64, Type) {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; ++i) bytes[i] = bin.charCodeAt(i);
  return new Type(bytes.buffer);
}

function css(rgb) {
  return `rgb(${rgb.map((c) => Math.round(c * 255)).join(',')})`;
}

function el(tag, attrs = {}, text = '') {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text) e.textContent = text;
  return e;
}

function formatTime(s) {
  if (s < 2) return `t = ${(s * 1e3).toFixed(3)} ms`;
  if (s < 1200) return `t = ${s.toFixed(3)} s`;
  return `t = ${(s / 60).toFixed(2)} min`;
}

function main() {
  const data = JSON.parse(document.getElementById('spinesim-data').textContent);
  const statusEl = document.getElementById('status');

  const renderWindow = vtkRenderWindow.newInstance();
  const renderer = vtkRenderer.newInstance({ background: [1, 1, 1] });
  renderWindow.addRenderer(renderer);
  const glWindow = vtkOpenGLRenderWindow.newInstance();
  renderWindow.addView(glWindow);
  const container = document.getElementById('view');
  glWindow.setContainer(container);
  const interactor = vtkRenderWindowInteractor.newInstance();
  interactor.setView(glWindow);
  interactor.initialize();
  interactor.bindEvents(container);
  interactor.setInteractorStyle(vtkInteractorStyleTrackballCamera.newInstance());

  // Membrane: one actor per region, so each keeps its colour and opacity and can be
  // hidden. The presynaptic surfaces start hidden: they lie between the camera and the
  // PSD (as in `spinesim render --camera psd`).
  const points = decode(data.mesh.points, Float32Array);
  const triangles = decode(data.mesh.triangles, Uint32Array);
  const triangleRegion = decode(data.mesh.triangle_region, Int32Array);
  const focus = [Infinity, -Infinity, Infinity, -Infinity, Infinity, -Infinity];
  const regionActors = data.regions.map((region, r) => {
    const ids = [];
    const inFocus = region.name === 'psd' || region.name === 'perisynaptic';
    for (let t = 0; t < triangleRegion.length; ++t) {
      if (triangleRegion[t] !== r) continue;
      ids.push(3);
      for (let k = 0; k < 3; ++k) {
        const v = triangles[3 * t + k];
        ids.push(v);
        if (!inFocus) continue;
        for (let a = 0; a < 3; ++a) {
          focus[2 * a] = Math.min(focus[2 * a], points[3 * v + a]);
          focus[2 * a + 1] = Math.max(focus[2 * a + 1], points[3 * v + a]);
        }
      }
    }
    if (ids.length === 0) return null;
    const pd = vtkPolyData.newInstance();
    pd.getPoints().setData(points, 3);
    pd.getPolys().setData(Uint32Array.from(ids));
    const mapper = vtkMapper.newInstance({ scalarVisibility: false });
    mapper.setInputData(pd);
    const actor = vtkActor.newInstance();
    actor.setMapper(mapper);
    actor.getProperty().setColor(...region.color);
    actor.getProperty().setOpacity(region.opacity);
    actor.setVisibility(!(region.name.includes('bouton') || region.name === 'cleft_rim'));
    renderer.addActor(actor);
    return actor;
  });

  // Molecules: one sphere per molecule, an agent coloured by its state, any other
  // molecule by its species; hidden species are left out of the point set.
  const frames = data.frames.map((f) => ({
    time_s: f.time_s,
    positions: decode(f.positions, Float32Array),
    species: decode(f.species, Uint16Array),
    state: decode(f.state, Uint16Array),
  }));
  const visible = data.species.map(() => true);
  const moleculeData = vtkPolyData.newInstance();
  const sphereMapper = vtkSphereMapper.newInstance({ scaleArray: 'radius', radius: 1 });
  sphereMapper.setColorModeToDirectScalars();
  sphereMapper.setInputData(moleculeData);
  const molecules = vtkActor.newInstance();
  molecules.setMapper(sphereMapper);
  renderer.addActor(molecules);

  const slider = document.getElementById('frame');
  slider.max = String(Math.max(0, frames.length - 1));
  const timeLabel = document.getElementById('time');
  const counts = { species: [], states: [] };
  const legend = buildLegend(data, visible, regionActors, counts, () => show(current));
  let current = 0;

  function show(k) {
    current = Math.min(Math.max(0, k | 0), frames.length - 1);
    slider.value = String(current);
    const f = frames[current];
    const n = f.species.length;
    let m = 0;
    for (let i = 0; i < n; ++i) if (visible[f.species[i]]) ++m;
    const pos = new Float32Array(3 * m);
    const rgb = new Uint8Array(3 * m);
    const radius = new Float32Array(m);
    counts.species = data.species.map(() => 0);
    counts.states = data.states.map(() => 0);
    for (let i = 0, j = 0; i < n; ++i) {
      const s = f.species[i];
      const st = f.state[i];
      counts.species[s] += 1;
      counts.states[st] += 1;
      if (!visible[s]) continue;
      const color = st > 0 ? data.states[st].color : data.species[s].color;
      for (let a = 0; a < 3; ++a) {
        pos[3 * j + a] = f.positions[3 * i + a];
        rgb[3 * j + a] = Math.round(color[a] * 255);
      }
      radius[j] = data.species[s].radius_um;
      ++j;
    }
    moleculeData.getPoints().setData(pos, 3);
    const verts = new Uint32Array(2 * m);
    for (let j = 0; j < m; ++j) {
      verts[2 * j] = 1;
      verts[2 * j + 1] = j;
    }
    moleculeData.getVerts().setData(verts);
    moleculeData.getPointData().setScalars(
      vtkDataArray.newInstance({ name: 'color', numberOfComponents: 3, values: rgb }),
    );
    moleculeData.getPointData().addArray(vtkDataArray.newInstance({ name: 'radius', values: radius }));
    moleculeData.modified();
    timeLabel.textContent = `${formatTime(f.time_s)} · frame ${current + 1}/${frames.length}`;
    legend.update();
    renderWindow.render();
    statusEl.dataset.frame = String(current);
    statusEl.dataset.molecules = String(m);
    statusEl.dataset.state = 'ready';
    statusEl.dataset.shown = String(Number(statusEl.dataset.shown || 0) + 1);
  }

  // PSD close-up: 55° above the horizon from the +z side, the PSD and perisynaptic
  // ring filling about two thirds of the height; the whole scene when there is no PSD.
  const psdView = () => {
    const camera = renderer.getActiveCamera();
    if (!(focus[0] <= focus[1])) {
      renderer.resetCamera();
      return;
    }
    const c = [0, 1, 2].map((a) => (focus[2 * a] + focus[2 * a + 1]) / 2);
    const size = Math.max(focus[1] - focus[0], focus[3] - focus[2], focus[5] - focus[4], 1e-3);
    const elevation = (55 * Math.PI) / 180;
    const distance = (0.8 * size) / Math.tan((camera.getViewAngle() * Math.PI) / 360);
    camera.setFocalPoint(...c);
    camera.setPosition(c[0], c[1] + distance * Math.sin(elevation), c[2] + distance * Math.cos(elevation));
    camera.setViewUp(0, Math.cos(elevation), -Math.sin(elevation));
    renderer.resetCameraClippingRange();
  };
  const wholeView = () => {
    const camera = renderer.getActiveCamera();
    camera.setFocalPoint(0, 0, 0);
    camera.setPosition(0, 0, 1);
    camera.setViewUp(0, 1, 0);
    renderer.resetCamera();
  };
  psdView();
  document.getElementById('view-psd').addEventListener('click', () => {
    psdView();
    renderWindow.render();
  });
  document.getElementById('view-whole').addEventListener('click', () => {
    wholeView();
    renderWindow.render();
  });
  const resize = () => {
    const box = container.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    glWindow.setSize(Math.floor(box.width * ratio), Math.floor(box.height * ratio));
    renderWindow.render();
  };
  window.addEventListener('resize', resize);

  slider.addEventListener('input', () => show(Number(slider.value)));
  let timer = null;
  const play = document.getElementById('play');
  play.addEventListener('click', () => {
    if (timer) {
      clearInterval(timer);
      timer = null;
      play.textContent = '▶ play';
      return;
    }
    play.textContent = '❚❚ pause';
    timer = setInterval(() => show((current + 1) % frames.length), 1000 / 8);
  });
  // #frame=K opens frame K (the headless test and links to a moment use it).
  const fromHash = () => {
    const m = /frame=(-?\d+)/.exec(window.location.hash);
    if (!m) return null;
    const k = Number(m[1]);
    return k < 0 ? frames.length + k : k;
  };
  window.addEventListener('hashchange', () => {
    const k = fromHash();
    if (k !== null) show(k);
  });
  // #hide=A,B unticks those species' check boxes, as a click would.
  const hidden = /hide=([^&]*)/.exec(window.location.hash);
  if (hidden) {
    for (const name of decodeURIComponent(hidden[1]).split(',')) {
      const box = document.querySelector(`input[data-species="${CSS.escape(name)}"]`);
      if (!box) throw new Error(`#hide names '${name}', which is not a species of this run`);
      box.checked = false;
      box.dispatchEvent(new Event('change'));
    }
  }
  resize();
  show(fromHash() ?? 0);
  // #play starts playing, as the button does.
  if (/(^#|&)play(&|$)/.test(window.location.hash)) play.click();
}

/// Species with a visibility toggle and their count in the shown frame, agent
/// states with counts, and membrane regions with a visibility toggle.
function buildLegend(data, visible, regionActors, counts, onToggle) {
  const box = document.getElementById('legend');
  const rows = [];
  box.appendChild(el('h3', {}, 'Species'));
  data.species.forEach((s, i) => {
    const row = el('label', { class: 'row' });
    const check = el('input', { type: 'checkbox', 'data-species': s.name });
    check.checked = true;
    check.addEventListener('change', () => {
      visible[i] = check.checked;
      onToggle();
    });
    const count = el('span', { class: 'count' });
    row.append(check, el('span', { class: 'swatch', style: `background:${css(s.color)}` }), s.name, count);
    box.appendChild(row);
    rows.push(() => {
      count.textContent = String(counts.species[i]);
    });
  });
  if (data.states.length > 1) {
    box.appendChild(el('h3', {}, 'Agent states'));
    data.states.forEach((st, i) => {
      if (i === 0) return;
      const row = el('div', { class: 'row' });
      const count = el('span', { class: 'count' });
      row.append(el('span', { class: 'swatch', style: `background:${css(st.color)}` }), st.name, count);
      box.appendChild(row);
      rows.push(() => {
        count.textContent = String(counts.states[i]);
        row.style.display = counts.states[i] > 0 ? '' : 'none';
      });
    });
  }
  box.appendChild(el('h3', {}, 'Membrane'));
  data.regions.forEach((r, i) => {
    const actor = regionActors[i];
    if (!actor) return;
    const row = el('label', { class: 'row' });
    const check = el('input', { type: 'checkbox', 'data-region': r.name });
    check.checked = actor.getVisibility();
    check.addEventListener('change', () => {
      actor.setVisibility(check.checked);
      onToggle();
    });
    row.append(check, el('span', { class: 'swatch', style: `background:${css(r.color)}` }), r.name);
    box.appendChild(row);
  });
  return { update: () => rows.forEach((f) => f()) };
}

try {
  main();
} catch (e) {
  const statusEl = document.getElementById('status');
  statusEl.dataset.state = 'error';
  statusEl.textContent = `viewer error: ${e && e.message ? e.message : e}`;
  throw e;
}
