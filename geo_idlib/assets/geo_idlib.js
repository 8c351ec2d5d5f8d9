/* geo_idlib map controls: areas by date (time slider), before/after swipe, change, places, legend,
 * side panel. Plain Leaflet 1.9, no other library. MIT licence, part of geo_idlib.
 *
 * The map's document (geo_idlib/maps/document.py, one JSON block) carries data only: names,
 * sentences, report names, numbers, actor indices, dates, palette values. Every text the page
 * shows is built here with DOM calls and textContent, never parsed as HTML; colours go in through
 * element.style (CSS custom properties), never through a style attribute, so that the page's
 * Content-Security-Policy needs no 'unsafe-inline'. */
(function () {
  'use strict';
  var G = window.geoIdlib = window.geoIdlib || {ready: false, maps: {}};
  var SVG_NS = 'http://www.w3.org/2000/svg';
  var DOT = ' \u00b7 ';

  // ---- DOM from data: text always as text
  function el(tag, cls, parent, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function add(parent, text) { parent.appendChild(document.createTextNode(text)); }
  function swatch(parent, color, kind) {
    var s = el('span', 'gi-swatch' + (kind ? ' gi-' + kind : ''), parent);
    s.style.setProperty('--c', color);
    return s;
  }
  function cssId(s) { return String(s).replace(/[^A-Za-z0-9_-]/g, '_'); }

  // ---- numbers as a reader expects them (en-US grouping)
  var INT = new Intl.NumberFormat('en-US', {maximumFractionDigits: 0});
  var ONE = new Intl.NumberFormat('en-US', {minimumFractionDigits: 1, maximumFractionDigits: 1});
  function km2(x) { return x === 0 ? '0' : (Math.abs(x) < 10 ? ONE : INT).format(x); }
  function km(x) { return x < 1 ? '<1' : INT.format(x); }

  // ---- right to left (d.text.dir): numbers with their signs kept left to right, every value put into
  // a sentence isolated from it (Unicode's LRI/FSI … PDI), so that "+1,234" never reads "1,234+" and a
  // Latin name in an Arabic sentence (or the reverse) keeps its own order
  function rtl(d) { return d.text.dir === 'rtl'; }
  function num(d, s) { return rtl(d) ? '\u2066' + s + '\u2069' : s; }
  function iso(d, s) { return rtl(d) && s !== '' ? '\u2068' + s + '\u2069' : s; }
  function term(d, w) { return (d.text.terms && d.text.terms[w]) || w; }  // a word of the data, in the map's language
  function auto(e) { e.setAttribute('dir', 'auto'); return e; }          // user text: its own direction

  // ---- geometry: quantised, delta-encoded rings
  function decodeRing(r, inv) {
    var out = new Array(r.length / 2), x = 0, y = 0;
    for (var i = 0; i < r.length; i += 2) { x += r[i]; y += r[i + 1]; out[i / 2] = [y / inv, x / inv]; }
    return out;
  }
  function decodeGeom(rings, inv) {  // a multipolygon of single rings (shells CCW, holes CW: non-zero fill)
    var out = [];
    for (var i = 0; i < rings.length; i++) out.push([decodeRing(rings[i], inv)]);
    return out;
  }

  function mirror(d, pos) {  // a corner of the map, mirrored right to left: the panel and legend on the reading side
    return rtl(d) ? pos.replace(/left|right/, function (s) { return s === 'left' ? 'right' : 'left'; }) : pos;
  }
  function control(pos, cls, build) {
    var C = L.Control.extend({onAdd: function () {
      var div = el('div', cls + ' leaflet-bar gi-box');
      L.DomEvent.disableClickPropagation(div); L.DomEvent.disableScrollPropagation(div);
      build(div); return div;
    }});
    return new C({position: pos});
  }

  function hatchDefs(d) {  // one SVG pattern per actor: fill="url(#gi-hatch-N)"
    var svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('width', '0'); svg.setAttribute('height', '0');
    svg.setAttribute('class', 'gi-hatch-defs'); svg.setAttribute('aria-hidden', 'true');
    var defs = document.createElementNS(SVG_NS, 'defs'); svg.appendChild(defs);
    d.actors.forEach(function (a, i) {
      var p = document.createElementNS(SVG_NS, 'pattern');
      p.setAttribute('id', 'gi-hatch-' + i); p.setAttribute('patternUnits', 'userSpaceOnUse');
      p.setAttribute('width', '8'); p.setAttribute('height', '8');
      p.setAttribute('patternTransform', 'rotate(45)');
      var r = document.createElementNS(SVG_NS, 'rect');
      r.setAttribute('width', '3'); r.setAttribute('height', '8'); r.setAttribute('fill', a.color);
      p.appendChild(r); defs.appendChild(p);
    });
    document.body.appendChild(svg);
    return svg;
  }

  // ---- text from the document's table (d.text): '{name}' placeholders filled with values
  function fmt(d, key, vals) {
    return String(d.text[key]).replace(/\{(\w+)\}/g, function (_, k) { return vals && k in vals ? iso(d, String(vals[k])) : ''; });
  }
  function decodeLine(r, inv) {
    var out = new Array(r.length / 2), x = 0, y = 0;
    for (var i = 0; i < r.length; i += 2) { x += r[i]; y += r[i + 1]; out[i / 2] = [y / inv, x / inv]; }
    return out;
  }

  // ---- the date shown: interval k of d.time.dates, and the date a person chose (st.date)
  function intervalOf(T, iso) {
    var k = null;
    for (var i = 0; i < T.dates.length; i++) if (T.dates[i] <= iso) k = i;
    return k;
  }
  function actorAt(st, m) {  // the join's answer on the map's own date; the as-of join per interval else
    var k = st.main;
    if (st.date === st.data.time.held_on || k === null || k === undefined) return m.actor;
    for (var i = 0; i < m.held.length; i++) if (m.held[i][0] <= k && k < m.held[i][1]) return m.held[i][2];
    return -1;
  }
  function shortLabel(d, a) { return a >= 0 ? (d.actors[a].short || d.actors[a].label) : d.style.no_actor.label; }
  function holder(d, a) { return a >= 0 ? d.actors[a].label : d.style.no_actor.label; }

  // ---- the key figures: each actor's net km² since D1 on the date shown (with ± the ground in doubt)
  function figureLines(st) {
    var d = st.data, T = d.time, F = d.furniture, k = st.main;
    if (!F.since || T.base === null || k === null || k === undefined || !T.area_km2) return [];
    return F.figures.map(function (a) {
      var net = T.area_km2[k][a] - T.area_km2[T.base][a];
      var u = T.uncertain_km2 ? T.uncertain_km2[k][a] : 0;
      var sign = net >= 0 ? '+' : '\u2212';
      var vals = {actor: shortLabel(d, a), net: num(d, sign + km2(Math.abs(net))), uncertain: num(d, km2(u)), since: F.since};
      return fmt(d, u > 0 ? 'figure_uncertain' : 'figure', vals);
    });
  }
  function furniture(st, box, withTitle) {  // title, subtitle (the date chosen), key figures: as text
    var d = st.data, F = d.furniture;
    if (withTitle) el('div', 'gi-title', box, F.title);
    st.subtitle = el('div', 'gi-subtitle', box, subtitleText(st));
    st.figures = el('div', 'gi-figures', box);
    showFigures(st);
  }
  function subtitleText(st) {
    var d = st.data, F = d.furniture;
    if (F.subtitle_fixed) return F.subtitle;
    var parts = [];
    if (F.subtitle) parts.push(F.subtitle);
    if (st.date && d.time.date_label) parts.push(fmt(d, 'subtitle_areas', {date: humanDate(d, st.date)}));
    return parts.join(DOT);
  }
  function humanDate(d, iso) {
    var p = iso.split('-');
    return (+p[2]) + ' ' + d.text.months[+p[1] - 1] + ' ' + p[0];
  }
  function showFigures(st) {
    if (!st.figures) return;
    st.figures.textContent = '';
    figureLines(st).forEach(function (t) { el('div', 'gi-figure', st.figures, t); });
  }

  // ---- what the page says about places
  function quote(parent, q) {
    if (!q.sentence) { auto(el('cite', 'gi-report', parent, q.report)); return null; }
    var b = auto(el('blockquote', 'gi-sentence', parent));
    add(b, q.sentence); auto(el('cite', null, b, q.report));
    return b;
  }
  function popup(st, m) {
    var d = st.data, box = el('div', 'gi-popup'), P = d.places, a = actorAt(st, m), held = st.date;
    auto(el('b', 'gi-name', box, m.name));
    var meta = [term(d, m.precision), fmt(d, 'confidence', {value: m.confidence === null ? '' : m.confidence.toFixed(2)})];
    if (m.admin1) meta.push(iso(d, m.admin1));
    if (m.country) meta.push(iso(d, m.country));
    el('div', 'gi-meta', box, meta.join(DOT));
    el('div', 'gi-actor', box, fmt(d, 'held_by', {actor: holder(d, a)}) + (held ? fmt(d, 'held_on', {date: held}) : ''));
    if (m.front_km !== null && held === d.time.held_on) {  // measured on the map's own date only
      el('div', 'gi-front', box, fmt(d, 'front_km', {km: m.front_km.toFixed(1)}) +
         (m.front_km < P.front_km ? d.text.front_near : ''));
    }
    m.mentions.forEach(function (q) { quote(box, q); });
    if (m.n > m.mentions.length) el('div', 'gi-more', box, fmt(d, 'more_mentions', {n: m.n - m.mentions.length}));
    return box;
  }

  function panelItem(ul, cls, item, meta) {  // one line per place; its sentence folds out under it
    var det = el('details', null, el('li', cls, ul)), sum = el('summary', null, det);
    auto(el('b', null, sum, item.name)); add(sum, ' '); el('span', 'gi-meta', sum, meta);
    quote(det, item);
  }
  function outsideMeta(d, o) {
    var P = d.places, meta = [num(d, km(o.km)) + ' ' + d.text.km + ' ' + term(d, o.compass)];
    if (o.broad) meta.push(term(d, o.broad));
    if (o.country) meta.push(iso(d, o.country));
    meta.push(o.drawn ? d.text.zoom_out : fmt(d, 'not_drawn', {km: P.far_km.toFixed(0)}));
    return meta.join(DOT);
  }
  function section(parent, cls, heading, items, fill) {
    if (!items.length) return;
    var det = el('details', 'gi-section ' + cls, parent);
    det.open = true;
    el('summary', 'gi-panel-title', det, heading + ' (' + items.length + ')');
    var ul = el('ul', null, det);
    items.forEach(function (it) { fill(ul, it); });
  }
  function folding(div, label, narrow) {  // a box that folds under its heading (folded on narrow screens)
    var det = el('details', 'gi-fold', div);
    det.open = !narrow;
    el('summary', 'gi-fold-title', det, label);
    return det;
  }
  function panel(st, div, narrow) {
    var d = st.data, P = d.places;
    var det = folding(div, d.furniture.title, narrow);
    det.querySelector('summary').classList.add('gi-title');
    furniture(st, det, false);
    if (!d.notice && !P.outside.length && !P.unlocated.length) return;
    var body = el('div', 'gi-panel-body', det);
    if (d.notice) auto(el('div', 'gi-notice', body, d.notice));
    section(body, 'gi-outside', d.text.outside, P.outside,
            function (ul, o) { panelItem(ul, 'gi-off', o, outsideMeta(d, o)); });
    section(body, 'gi-not-located', d.text.not_located, P.unlocated,
            function (ul, u) { panelItem(ul, 'gi-unlocated', u, term(d, u.status)); });
  }

  // ---- legend: the actors drawn, then the change D1 → D2 in km²
  function legendRow(div, color, kind, text) {
    var row = el('div', 'gi-legend-row', div);
    swatch(row, color, kind); add(row, text);
    return row;
  }
  function legend(div, d, withChange) {
    var S = d.style, C = d.change;
    d.legend.actors.forEach(function (i) {
      var a = d.actors[i];
      legendRow(div, a.color, a.hatch ? 'hatch' : null, iso(d, a.label) + (a.known ? '' : d.text.unrecognised)).dataset.actor = a.id;
    });
    if (d.legend.no_actor) legendRow(div, S.no_actor.color, 'dot', S.no_actor.label);
    if (!C || !withChange) return;
    el('div', 'gi-legend-title', div, d.text.change + (C.d1 && C.d2 ? ' ' + fmt(d, 'period', {d1: C.d1, d2: C.d2}) : ''));
    el('div', 'gi-legend-note', div, (S.change.gained_hatch ? d.text.change_note_hatched : d.text.change_note_filled) + DOT + d.text.change_note_lost);
    C.totals.forEach(function (t) {
      var a = d.actors[t.actor];
      legendRow(div, a.color, S.change.gained_hatch ? 'hatch' : null,
                iso(d, a.label) + ': ' + num(d, '+' + km2(t.gained_km2)) + ' ' + d.text.km2 + ' / ' +
                num(d, '\u2212' + km2(t.lost_km2)) + ' ' + d.text.km2);
    });
  }
  function hasLegend(d) { return d.legend.actors.length || d.legend.no_actor || d.change; }

  // ---- layers
  function baseLayers(map, d, inv, overlays) {
    var bases = {}, S = d.style.basemap, B = d.base, M = B.basemap;
    B.tiles.forEach(function (t, i) {
      var lyr = L.tileLayer(t.url, {attribution: t.attribution, maxZoom: t.max_zoom});
      bases[t.name] = lyr; if (i === 0) lyr.addTo(map);
    });
    if (M) {
      var bm = L.layerGroup(), winv = Math.round(1 / M.world_quantum);
      function polys(list, q, style, cls) {
        if (list.length) L.polygon(list.map(function (g) { return decodeGeom(g, q); }),
          L.extend({pane: 'gi-basemap', interactive: false, stroke: false, fillOpacity: 1, fillRule: 'nonzero',
                    className: 'gi-basemap ' + cls}, style)).addTo(bm);
      }
      function lines(list, q, style, cls) {
        if (list.length) L.polyline(list.map(function (r) { return decodeLine(r, q); }),
          L.extend({pane: 'gi-basemap', interactive: false, fill: false, className: 'gi-basemap ' + cls}, style)).addTo(bm);
      }
      polys(M.world_land, winv, {fillColor: S.land}, 'gi-world');
      lines(M.world_border, winv, {color: S.country_line, weight: 0.8}, 'gi-world-border');
      polys(M.land, inv, {fillColor: S.land}, 'gi-land');
      polys(M.lakes, inv, {fillColor: S.lake}, 'gi-lakes');
      lines(M.river, inv, {color: S.river_line, weight: 1}, 'gi-rivers');
      lines(M.coast, inv, {color: S.coast_line, weight: 0.8}, 'gi-coast');
      lines(M.admin1, inv, {color: S.admin1_line, weight: 0.7, dashArray: S.admin1_dash}, 'gi-admin1');
      lines(M.border, inv, {color: S.country_line, weight: 1.2}, 'gi-countries');
      bm.addTo(map); overlays[d.text.layer_basemap] = bm;
      map.getContainer().setAttribute('data-gi-basemap', '1');
    }
    return bases;
  }

  function changeLayer(map, d, inv) {
    var ch = L.layerGroup(), S = d.style;
    d.change.polygons.forEach(function (c) {
      var from = c.from >= 0 ? d.actors[c.from] : null;
      var fill = c.to < 0 ? S.no_actor.color : S.change.gained_hatch ? 'url(#gi-hatch-' + c.to + ')' : d.actors[c.to].color;
      L.polygon(decodeGeom(c.g, inv), {pane: 'gi-change', weight: 1.5, dashArray: S.change.lost_dash,
        fillRule: 'nonzero', color: from ? from.color : S.change.no_actor_outline, fillColor: fill,
        fillOpacity: S.change.fill_opacity, className: 'gi-change', interactive: false}).addTo(ch);
    });
    return ch.addTo(map);
  }

  function markerLayer(st) {
    var map = st.map, d = st.data, mk = L.layerGroup(), S = d.style;
    st.markers = d.places.markers.map(function (m) {
      var c = L.circleMarker([m.lat, m.lon], {pane: 'gi-markers', radius: 6, weight: 1.5, color: S.marker_stroke,
        fillColor: S.no_actor.color, fillOpacity: S.marker_opacity, className: 'gi-marker', giName: m.name})
        .bindPopup(function () { return popup(st, m); }, {maxWidth: 360})
        .bindTooltip(function () { return auto(el('span', null, null, m.tip || m.name)); })
        .addTo(mk);
      return c;
    });
    st.colorMarkers = function () {
      d.places.markers.forEach(function (m, i) {
        var a = actorAt(st, m);
        st.markers[i].setStyle({fillColor: a >= 0 ? d.actors[a].color : S.no_actor.color});
        st.markers[i].getElement().setAttribute('data-gi-actor', a >= 0 ? d.actors[a].id : '');
      });
    };
    return mk.addTo(map);
  }

  // ---- labels: report places in the report's spelling, then towns by population; a label that would
  // overlap one placed before it (or a marker) is hidden, never drawn over it
  var POSITIONS = ['right', 'left', 'top', 'bottom'], POSITIONS_RTL = ['left', 'right', 'top', 'bottom'];
  function labelLayer(st) {
    var map = st.map, d = st.data, pane = map.createPane('gi-labels');
    pane.style.zIndex = 640; pane.style.pointerEvents = 'none';
    var items = [];
    d.places.markers.forEach(function (m, i) {
      items.push({lat: m.lat, lon: m.lon, text: m.label, kind: 'place', z: 0, r: 7, rank: i});
    });
    d.labels.towns.forEach(function (t, i) {
      items.push({lat: t.lat, lon: t.lon, text: t.name, kind: 'town', z: t.z, r: 2, rank: 1000 + i});
    });
    items.forEach(function (it) {
      it.el = el('div', 'gi-label gi-label-' + it.kind, pane, it.text);
      it.el.setAttribute('dir', 'auto');
      if (it.kind === 'town') it.dot = el('div', 'gi-town-dot', pane);  // where the town is
    });
    st.labels = items;
    st.placeLabels = function () { placeLabels(st); };
    map.on('zoomend moveend viewreset resize', st.placeLabels);
    placeLabels(st);
  }
  function overlaps(a, b) { return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]; }
  function placeLabels(st) {
    var map = st.map, z = map.getZoom(), taken = [], GAP = 3, order = rtl(st.data) ? POSITIONS_RTL : POSITIONS;
    st.labels.forEach(function (it) {  // markers are obstacles for every label
      if (it.kind !== 'place') return;
      var p = map.latLngToLayerPoint([it.lat, it.lon]);
      taken.push([p.x - it.r, p.y - it.r, p.x + it.r, p.y + it.r]);
    });
    st.labels.forEach(function (it) {
      var e = it.el;
      if (it.dot) it.dot.style.display = 'none';
      if (it.z > Math.round(z)) { e.style.display = 'none'; e.removeAttribute('data-gi-pos'); return; }
      e.style.display = 'block';
      var w = e.offsetWidth, h = e.offsetHeight, p = map.latLngToLayerPoint([it.lat, it.lon]), r = it.r + GAP;
      var own = it.kind === 'place' ? [p.x - it.r, p.y - it.r, p.x + it.r, p.y + it.r] : null;
      for (var j = 0; j < order.length; j++) {
        var pos = order[j], x, y;
        if (pos === 'right') { x = p.x + r; y = p.y - h / 2; }
        else if (pos === 'left') { x = p.x - r - w; y = p.y - h / 2; }
        else if (pos === 'top') { x = p.x - w / 2; y = p.y - r - h; }
        else { x = p.x - w / 2; y = p.y + r; }
        var box = [x, y, x + w, y + h];
        if (!taken.some(function (t) { return t !== own && overlaps(box, t); })) {
          L.DomUtil.setPosition(e, L.point(Math.round(x), Math.round(y)));
          e.setAttribute('data-gi-pos', pos);
          taken.push(box);
          if (it.dot) { it.dot.style.display = 'block'; L.DomUtil.setPosition(it.dot, L.point(Math.round(p.x) - 2, Math.round(p.y) - 2)); }
          return;
        }
      }
      e.style.display = 'none'; e.removeAttribute('data-gi-pos');
    });
  }

  // ---- areas: faces switched on by date, merged per actor into one path per pane
  function areaLayers(st, inv) {
    var map = st.map, d = st.data, box = map.getContainer(), A = d.areas;
    var faces = A.faces.map(function (f) { return decodeGeom(f, inv); });
    function actorLayer(a, pane) {
      var s = d.actors[a];
      // smoothFactor 0: the faces come simplified as one coverage; Leaflet's own per-ring
      // simplification would part their shared edges and draw hairline seams between them
      return L.polygon([], {pane: pane, stroke: false, fillOpacity: d.style.area_opacity, fillRule: 'nonzero',
        smoothFactor: 0,
        fillColor: s.hatch ? 'url(#gi-hatch-' + a + ')' : s.color, interactive: false,
        className: 'gi-area gi-actor-' + cssId(s.id)});
    }
    var panes = {main: 'gi-main', left: 'gi-left'};
    Object.keys(panes).forEach(function (k) {
      st.layers[k] = d.actors.map(function (_, a) { return actorLayer(a, panes[k]); });
    });
    st.show = function (which, k) {
      var per = d.actors.map(function () { return []; });
      if (k !== null && k !== undefined) {
        for (var i = 0; i < A.runs.length; i++) {
          var r = A.runs[i];
          if (r[1] <= k && k < r[2]) Array.prototype.push.apply(per[r[3]], faces[r[0]]);
        }
      }
      st.layers[which].forEach(function (lyr, a) {
        if (per[a].length) { lyr.setLatLngs(per[a]); if (!map.hasLayer(lyr)) lyr.addTo(map); }
        else if (map.hasLayer(lyr)) map.removeLayer(lyr);
      });
      st[which] = k;
      box.setAttribute('data-gi-' + which, k === null || k === undefined ? '' : d.time.dates[k]);
    };
  }

  // ---- the date a person chose: areas, markers, popups' "held by", key figures and the hash follow it
  function setDate(st, iso) {
    var T = st.data.time, k = intervalOf(T, iso);
    st.date = iso;
    st.show('main', k);
    if (st.colorMarkers) st.colorMarkers();
    if (st.subtitle) st.subtitle.textContent = subtitleText(st);
    showFigures(st);
    if (st.sliderLabel) st.sliderLabel.textContent = sliderText(st);
    st.map.getContainer().setAttribute('data-gi-date', iso);
    saveHash(st);
  }
  function sliderText(st) {
    var T = st.data.time, d = st.data;
    return (T.swipe ? d.text.right : '') + st.date;
  }
  function timeControl(st) {
    var T = st.data.time;
    if (T.slider.length > 1) return control(mirror(st.data, 'bottomleft'), 'gi-slider', function (div) {
      var lab = el('div', 'gi-slider-label', div), inp = el('input', 'gi-slider-input', div);
      inp.type = 'range'; inp.min = 0; inp.max = T.slider.length - 1; inp.step = 1;
      inp.setAttribute('aria-label', st.data.text.date);
      el('div', 'gi-slider-range', div, T.dates[T.slider[0]] + ' \u2026 ' + T.dates[T.slider[T.slider.length - 1]]);
      L.DomEvent.on(inp, 'input change', function () { setDate(st, T.dates[T.slider[+inp.value]]); });
      st.sliderLabel = lab; st.slider = inp;
      syncSlider(st);
      lab.textContent = st.date ? sliderText(st) : '';
    });
    if (T.start !== null && T.dates.length && T.date_label) return control(mirror(st.data, 'bottomleft'), 'gi-slider', function (div) {
      st.sliderLabel = el('div', 'gi-slider-label', div, st.date);
    });
    return null;
  }
  function syncSlider(st) {
    var T = st.data.time, pos = 0;
    if (!st.slider) return;
    for (var i = 0; i < T.slider.length; i++) if (st.main !== null && T.slider[i] <= st.main) pos = i;
    st.slider.value = pos;
  }

  // ---- the URL hash keeps the date, the swipe and the view: #date=2020-02-20&swipe=0.42&view=35.9,36.7,10
  function readHash() {
    var out = {};
    (location.hash || '').replace(/^#/, '').split('&').forEach(function (kv) {
      var i = kv.indexOf('=');
      if (i > 0) out[decodeURIComponent(kv.slice(0, i))] = decodeURIComponent(kv.slice(i + 1));
    });
    return out;
  }
  function saveHash(st) {
    if (!st.ready || st.publish) return;
    var c = st.map.getCenter(), parts = [];
    if (st.date) parts.push('date=' + st.date);
    if (st.data.time.swipe) parts.push('swipe=' + st.swipeX.toFixed(3));
    parts.push('view=' + c.lat.toFixed(5) + ',' + c.lng.toFixed(5) + ',' + st.map.getZoom());
    try { history.replaceState(null, '', '#' + parts.join('&')); } catch (e) { /* a sandboxed frame */ }
  }
  function applyHash(st, h) {
    var T = st.data.time;
    if (h.date && /^\d{4}-\d{2}-\d{2}$/.test(h.date) && T.dates.length && h.date >= T.dates[0]) st.date = h.date;
    if (h.swipe && T.swipe && isFinite(+h.swipe)) st.swipeX = Math.max(0, Math.min(1, +h.swipe));
    var v = (h.view || '').split(',').map(Number);
    if (v.length === 3 && v.every(isFinite)) st.hashView = v;
  }

  G.init = function (map, d) {
    if (d.v !== 3) throw new Error('geo_idlib: map document version ' + d.v + ', this page reads version 3');
    var inv = Math.round(1 / d.quantum), box = map.getContainer(), T = d.time, h = readHash();
    var publish = h.publish === '1', narrow = window.innerWidth < 640;
    box.style.background = d.style.background;
    document.documentElement.setAttribute('dir', d.text.dir);
    var st = {map: map, data: d, main: T.start, left: T.swipe ? T.swipe.left : null, swipeX: 0.5, layers: {},
              date: T.held_on, publish: publish, frame: h.frame === '1', ready: false};
    G.maps[d.map_id] = st;
    st.defs = hatchDefs(d);
    [['gi-basemap', 250], ['gi-left', 410], ['gi-main', 420], ['gi-change', 430], ['gi-markers', 620]]
      .forEach(function (p) { map.createPane(p[0]).style.zIndex = p[1]; });
    applyHash(st, h);
    var overlays = {};
    var bases = baseLayers(map, d, inv, overlays);
    areaLayers(st, inv);
    if (d.change && d.change.polygons.length && !st.frame) overlays[d.text.layer_change] = changeLayer(map, d, inv);
    if (d.places.markers.length) overlays[d.text.layer_places] = markerLayer(st);
    labelLayer(st);
    if (publish) {
      publishLayout(st);
    } else {
      if (map.zoomControl && rtl(d)) map.zoomControl.setPosition(mirror(d, 'topleft'));
      control(mirror(d, 'topright'), 'gi-panel', function (div) { panel(st, div, narrow); }).addTo(map);
      if (Object.keys(overlays).length || Object.keys(bases).length > 1) L.control.layers(bases, overlays, {position: mirror(d, 'topright'), collapsed: true}).addTo(map);
      control(mirror(d, 'bottomright'), 'gi-legend', function (div) {
        var det = folding(div, d.text.legend, narrow);
        if (hasLegend(d)) legend(det, d, true);
        el('div', 'gi-legend-credit', det, d.furniture.credit);  // shown here on narrow screens only
      }).addTo(map);
      control(mirror(d, 'bottomright'), 'gi-credit', function (div) { div.textContent = d.furniture.credit; }).addTo(map);
      var slider = timeControl(st);
      if (slider) slider.addTo(map);
      if (T.swipe) initSwipe(st);
    }
    setDate(st, st.date || (T.start !== null && T.dates.length ? T.dates[T.start] : ''));
    map.fitBounds(d.view.bounds, {animate: false});  // at once: a screenshot must not catch a zoom animation
    if (st.hashView && !publish) map.setView([st.hashView[0], st.hashView[1]], st.hashView[2], {animate: false});
    if (T.swipe && !publish) {
      if (T.swipe.lon !== null && h.swipe === undefined) {
        // start the swipe on the change (not at mid-width, which may leave the whole front on one side)
        var c = map.getCenter(), size = map.getSize();
        st.swipeX = Math.max(0.1, Math.min(0.9, map.latLngToContainerPoint([c.lat, T.swipe.lon]).x / size.x));
      }
      st.clip();
    }
    syncSlider(st);
    placeLabels(st);
    map.on('moveend', function () { saveHash(st); });
    st.ready = true;
    saveHash(st);
    G.ready = true;
    box.setAttribute('data-gi-ready', '1');
    return st;
  };

  // ---- the publish layout (static exports): title, subtitle and key figures above the map, legend and
  // credit below it; no zoom buttons, slider, layer switcher, swipe or folding panels
  function publishLayout(st) {
    var map = st.map, d = st.data, box = map.getContainer();
    document.documentElement.classList.add('gi-publish');
    var head = el('header', 'gi-publish-head');
    document.body.insertBefore(head, box);
    furniture(st, head, true);
    st.stamp = head.querySelector('.gi-subtitle');
    var foot = el('footer', 'gi-publish-foot');
    box.parentNode.insertBefore(foot, box.nextSibling);
    if (hasLegend(d)) legend(el('div', 'gi-publish-legend', foot), d, !st.frame);
    el('div', 'gi-credit', foot, d.furniture.credit);
    if (map.zoomControl) map.removeControl(map.zoomControl);
    map.options.zoomSnap = 0.25;  // a printed map fills its frame: quarter zoom steps
    box.style.height = Math.max(100, window.innerHeight - head.offsetHeight - foot.offsetHeight) + 'px';
    map.invalidateSize({animate: false});
  }
  G.setDate = function (iso, id) { var st = G.maps[id || 'geo_idlib']; setDate(st, iso); return st.main; };

  // ---- the publish layout as one SVG: the map's own SVG panes, labels and furniture as <text>
  // a text where the page draws it: from its box's left edge, or its right edge when it runs right to
  // left, in the page's own font (an Arabic font first for Arabic: geo_idlib.css)
  function svgText(parent, box, y, text, cls, cs) {
    var t = document.createElementNS(SVG_NS, 'text'), size = cs.fontSize, weight = cs.fontWeight, color = cs.color;
    var rl = cs.direction === 'rtl';
    t.setAttribute('x', Math.round(rl ? box[1] : box[0])); t.setAttribute('y', Math.round(y));
    if (rl) t.setAttribute('direction', 'rtl');
    t.setAttribute('class', cls); t.setAttribute('font-size', size);
    t.setAttribute('font-family', cs.fontFamily || 'sans-serif');
    if (weight) t.setAttribute('font-weight', weight);
    t.setAttribute('fill', color || '#222');
    t.textContent = text;
    parent.appendChild(t);
    return t;
  }
  function textNodes(svg, root, rootRect) {  // every visible text of an HTML box, where it is drawn
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (var n = walker.nextNode(); n; n = walker.nextNode()) {
      var text = n.textContent.trim(), parent = n.parentElement;
      if (!text || !parent || !parent.offsetWidth) continue;
      var range = document.createRange(); range.selectNodeContents(n);
      var r = range.getBoundingClientRect(), cs = getComputedStyle(parent);
      svgText(svg, [r.left - rootRect.left, r.right - rootRect.left], r.bottom - rootRect.top - r.height * 0.22, text,
              'gi-svg-' + (parent.className || 'text').split(' ')[0], cs);
    }
  }
  G.svg = function (id) {
    var st = G.maps[id || 'geo_idlib'], map = st.map, box = map.getContainer();
    var page = document.body.getBoundingClientRect(), mr = box.getBoundingClientRect();
    var svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('xmlns', SVG_NS);
    svg.setAttribute('width', Math.round(page.width)); svg.setAttribute('height', Math.round(page.height));
    svg.setAttribute('viewBox', '0 0 ' + Math.round(page.width) + ' ' + Math.round(page.height));
    var bg = document.createElementNS(SVG_NS, 'rect');
    bg.setAttribute('width', '100%'); bg.setAttribute('height', '100%'); bg.setAttribute('fill', '#ffffff');
    svg.appendChild(bg);
    svg.appendChild(st.defs.querySelector('defs').cloneNode(true));
    var clip = document.createElementNS(SVG_NS, 'clipPath'), rect = document.createElementNS(SVG_NS, 'rect');
    clip.setAttribute('id', 'gi-map-clip');
    rect.setAttribute('x', Math.round(mr.left - page.left)); rect.setAttribute('y', Math.round(mr.top - page.top));
    rect.setAttribute('width', Math.round(mr.width)); rect.setAttribute('height', Math.round(mr.height));
    clip.appendChild(rect); svg.appendChild(clip);
    var g = document.createElementNS(SVG_NS, 'g');
    g.setAttribute('clip-path', 'url(#gi-map-clip)');
    var sea = rect.cloneNode(); sea.setAttribute('fill', st.data.style.background); g.appendChild(sea);
    svg.appendChild(g);
    ['gi-basemap', 'gi-left', 'gi-main', 'gi-change', 'gi-markers'].forEach(function (name) {
      var pane = map.getPane(name);
      if (!pane || getComputedStyle(pane).display === 'none') return;
      pane.querySelectorAll('svg').forEach(function (s) {
        var r = s.getBoundingClientRect(), vb = (s.getAttribute('viewBox') || '0 0 0 0').split(' ').map(Number);
        var sg = document.createElementNS(SVG_NS, 'g');
        sg.setAttribute('transform', 'translate(' + (r.left - page.left - vb[0]).toFixed(1) + ' ' + (r.top - page.top - vb[1]).toFixed(1) + ')');
        Array.prototype.forEach.call(s.childNodes, function (c) { sg.appendChild(c.cloneNode(true)); });
        g.appendChild(sg);
      });
    });
    st.labels.forEach(function (it) {
      if (it.el.style.display === 'none') return;
      if (it.dot) {
        var dr = it.dot.getBoundingClientRect(), c = document.createElementNS(SVG_NS, 'circle');
        c.setAttribute('cx', (dr.left + dr.width / 2 - page.left).toFixed(1)); c.setAttribute('cy', (dr.top + dr.height / 2 - page.top).toFixed(1));
        c.setAttribute('r', '2'); c.setAttribute('fill', '#555'); g.appendChild(c);
      }
      var r = it.el.getBoundingClientRect(), cs = getComputedStyle(it.el);
      var t = svgText(g, [r.left - page.left + parseFloat(cs.paddingLeft), r.right - page.left - parseFloat(cs.paddingRight)],
                      r.bottom - page.top - r.height * 0.28, it.text, 'gi-svg-label gi-svg-label-' + it.kind, cs);
      t.setAttribute('stroke', '#ffffff'); t.setAttribute('stroke-width', '3'); t.setAttribute('paint-order', 'stroke');
    });
    ['.gi-publish-head', '.gi-publish-foot'].forEach(function (sel) {
      var part = document.querySelector(sel);
      if (!part) return;
      part.querySelectorAll('.gi-swatch').forEach(function (sw) {
        var r = sw.getBoundingClientRect(), cs = getComputedStyle(sw), s = document.createElementNS(SVG_NS, 'rect');
        s.setAttribute('x', Math.round(r.left - page.left)); s.setAttribute('y', Math.round(r.top - page.top));
        s.setAttribute('width', Math.round(r.width)); s.setAttribute('height', Math.round(r.height));
        s.setAttribute('fill', cs.getPropertyValue('--c').trim() || '#888'); s.setAttribute('stroke', '#555');
        svg.appendChild(s);
      });
      textNodes(svg, part, page);
    });
    return new XMLSerializer().serializeToString(svg);
  };

  function initSwipe(st) {
    var map = st.map, S = st.data.time.swipe, box = map.getContainer();
    st.show('left', S.left);
    var bar = el('div', 'gi-swipe', box);
    var handle = el('div', 'gi-swipe-handle', bar);
    handle.title = fmt(st.data, 'compare', {left: S.left_label, right: S.right_label});
    el('div', 'gi-swipe-tag gi-swipe-left', bar, S.left_label);
    el('div', 'gi-swipe-tag gi-swipe-right', bar, S.right_label);
    L.DomEvent.disableClickPropagation(bar);
    function clip() {
      var size = map.getSize(), x = Math.round(size.x * st.swipeX);
      var nw = map.containerPointToLayerPoint([0, 0]), se = map.containerPointToLayerPoint(size);
      var cx = map.containerPointToLayerPoint([x, 0]).x;
      function poly(l, r) { return 'polygon(' + l + 'px ' + nw.y + 'px, ' + r + 'px ' + nw.y + 'px, ' + r + 'px ' + se.y + 'px, ' + l + 'px ' + se.y + 'px)'; }
      map.getPane('gi-left').style.clipPath = poly(nw.x, cx);
      map.getPane('gi-main').style.clipPath = poly(cx, se.x);
      bar.style.left = x + 'px';
    }
    st.clip = clip;
    var dragging = false;
    function move(e) {
      if (!dragging) return;
      var r = box.getBoundingClientRect();
      st.swipeX = Math.max(0, Math.min(1, (e.clientX - r.left) / r.width)); clip();
      L.DomEvent.preventDefault(e);
    }
    L.DomEvent.on(handle, 'pointerdown', function (e) { dragging = true; map.dragging.disable(); L.DomEvent.preventDefault(e); });
    L.DomEvent.on(document, 'pointermove', move);
    L.DomEvent.on(document, 'pointerup pointercancel', function () { if (dragging) { dragging = false; map.dragging.enable(); saveHash(st); } });
    map.on('move zoom resize viewreset zoomend moveend', clip);
    clip();
  }
})();
