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
  }

  // ---- what the page says about places
  function quote(parent, q) {
    var b = el('blockquote', 'gi-sentence', parent);
    add(b, q.sentence); el('cite', null, b, q.report);
    return b;
  }
  function holder(d, a) { return a >= 0 ? d.actors[a].label : d.style.no_actor.label; }

  function popup(d, m) {
    var box = el('div', 'gi-popup'), P = d.places, held = d.time.held_on;
    el('b', 'gi-name', box, m.name);
    var meta = [m.precision, 'confidence ' + (m.confidence === null ? '' : m.confidence.toFixed(2))];
    if (m.admin1) meta.push(m.admin1);
    if (m.country) meta.push(m.country);
    el('div', 'gi-meta', box, meta.join(DOT));
    el('div', 'gi-actor', box, 'Held by: ' + holder(d, m.actor) + (held ? ' on ' + held : ''));
    if (m.front_km !== null) {
      el('div', 'gi-front', box, m.front_km.toFixed(1) + ' km from ground held by another side' +
         (m.front_km < P.front_km ? ' \u2014 near the front: the side here is uncertain' : ''));
    }
    m.mentions.forEach(function (q) { quote(box, q); });
    if (m.n > m.mentions.length) el('div', 'gi-more', box, (m.n - m.mentions.length) + ' more mention(s)');
    return box;
  }

  function panelItem(ul, cls, item, meta) {  // one line per place; its sentence folds out under it
    var det = el('details', null, el('li', cls, ul)), sum = el('summary', null, det);
    el('b', null, sum, item.name); add(sum, ' '); el('span', 'gi-meta', sum, meta);
    quote(det, item);
  }
  function outsideMeta(P, o) {
    var meta = [km(o.km) + ' km ' + o.compass];
    if (o.broad) meta.push(o.broad);
    if (o.country) meta.push(o.country);
    meta.push(o.drawn ? 'zoom out' : 'not drawn (over ' + P.far_km.toFixed(0) + ' km)');
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
  function panel(div, d) {
    var P = d.places;
    if (d.title) el('div', 'gi-title', div, d.title);
    if (!d.notice && !P.outside.length && !P.unlocated.length) return;
    var body = el('div', 'gi-panel-body', div);
    if (d.notice) el('div', 'gi-notice', body, d.notice);
    section(body, 'gi-outside', 'Outside this view', P.outside,
            function (ul, o) { panelItem(ul, 'gi-off', o, outsideMeta(P, o)); });
    section(body, 'gi-not-located', 'Not located', P.unlocated,
            function (ul, u) { panelItem(ul, 'gi-unlocated', u, u.status); });
  }

  // ---- legend: the actors drawn, then the change D1 → D2 in km²
  function legendRow(div, color, kind, text) {
    var row = el('div', 'gi-legend-row', div);
    swatch(row, color, kind); add(row, text);
    return row;
  }
  function legend(div, d) {
    var S = d.style, C = d.change;
    d.legend.actors.forEach(function (i) {
      var a = d.actors[i];
      legendRow(div, a.color, a.hatch ? 'hatch' : null, a.label + (a.known ? '' : ' (unrecognised)')).dataset.actor = a.id;
    });
    if (d.legend.no_actor) legendRow(div, S.no_actor.color, 'dot', S.no_actor.label);
    if (!C) return;
    el('div', 'gi-legend-title', div, 'Change' + (C.d1 && C.d2 ? ' ' + C.d1 + ' \u2192 ' + C.d2 : ''));
    el('div', 'gi-legend-note', div, (S.change.gained_hatch ? 'hatched' : 'filled') + ': gained by' + DOT + 'dashed outline: lost by');
    C.totals.forEach(function (t) {
      var a = d.actors[t.actor];
      legendRow(div, a.color, S.change.gained_hatch ? 'hatch' : null,
                a.label + ': +' + km2(t.gained_km2) + ' km\u00b2 / \u2212' + km2(t.lost_km2) + ' km\u00b2');
    });
  }
  function hasLegend(d) { return d.legend.actors.length || d.legend.no_actor || d.change; }

  // ---- layers
  function baseLayers(map, d, inv, overlays) {
    var bases = {}, S = d.style.basemap, B = d.base;
    B.tiles.forEach(function (t, i) {
      var lyr = L.tileLayer(t.url, {attribution: t.attribution, maxZoom: t.max_zoom});
      bases[t.name] = lyr; if (i === 0) lyr.addTo(map);
    });
    if (B.basemap) {
      var bm = L.layerGroup();
      if (B.basemap.countries) L.polygon(B.basemap.countries.map(function (g) { return decodeGeom(g, inv); }),
        {pane: 'gi-basemap', interactive: false, color: S.country_line, weight: 1, fillColor: S.land,
         fillOpacity: 1, fillRule: 'nonzero', className: 'gi-basemap gi-countries'}).addTo(bm);
      if (B.basemap.admin1) L.polygon(B.basemap.admin1.map(function (g) { return decodeGeom(g, inv); }),
        {pane: 'gi-basemap', interactive: false, color: S.admin1_line, weight: 0.7, dashArray: S.admin1_dash,
         fill: false, className: 'gi-basemap gi-admin1'}).addTo(bm);
      bm.addTo(map); overlays['Basemap (Natural Earth)'] = bm;
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

  function markerLayer(map, d) {
    var mk = L.layerGroup(), S = d.style;
    d.places.markers.forEach(function (m) {
      L.circleMarker([m.lat, m.lon], {pane: 'gi-markers', radius: 6, weight: 1.5, color: S.marker_stroke,
        fillColor: m.actor >= 0 ? d.actors[m.actor].color : S.no_actor.color, fillOpacity: S.marker_opacity,
        className: 'gi-marker', giName: m.name})
        .bindPopup(function () { return popup(d, m); }, {maxWidth: 360})
        .bindTooltip(function () { return document.createTextNode(m.name); })
        .addTo(mk);
    });
    return mk.addTo(map);
  }

  // ---- areas: faces switched on by date, merged per actor into one path per pane
  function areaLayers(st, inv) {
    var map = st.map, d = st.data, box = map.getContainer(), A = d.areas;
    var faces = A.faces.map(function (f) { return decodeGeom(f, inv); });
    function actorLayer(a, pane) {
      var s = d.actors[a];
      return L.polygon([], {pane: pane, stroke: false, fillOpacity: d.style.area_opacity, fillRule: 'nonzero',
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

  // ---- the time slider (or the one date shown)
  function timeControl(st) {
    var T = st.data.time;
    if (T.slider.length > 1) return control('bottomleft', 'gi-slider', function (div) {
      var lab = el('div', 'gi-slider-label', div), inp = el('input', 'gi-slider-input', div);
      inp.type = 'range'; inp.min = 0; inp.max = T.slider.length - 1; inp.step = 1;
      inp.setAttribute('aria-label', 'date');
      var pos = 0;
      for (var i = 0; i < T.slider.length; i++) if (T.start !== null && T.slider[i] <= T.start) pos = i;
      inp.value = pos;
      el('div', 'gi-slider-range', div, T.dates[T.slider[0]] + ' \u2026 ' + T.dates[T.slider[T.slider.length - 1]]);
      function text(k) { return (T.swipe ? 'right: ' : '') + 'areas since ' + T.dates[k]; }
      L.DomEvent.on(inp, 'input change', function () { var k = T.slider[+inp.value]; st.show('main', k); lab.textContent = text(k); });
      lab.textContent = T.start !== null ? text(T.start) : '';
      st.slider = inp;
    });
    if (T.start !== null && T.dates.length && T.date_label) return control('bottomleft', 'gi-slider', function (div) {
      el('div', 'gi-slider-label', div, T.dates[T.start]);
    });
    return null;
  }

  G.init = function (map, d) {
    if (d.v !== 2) throw new Error('geo_idlib: map document version ' + d.v + ', this page reads version 2');
    var inv = Math.round(1 / d.quantum), box = map.getContainer(), T = d.time;
    box.style.background = d.style.background;
    var st = {map: map, data: d, main: T.start, left: T.swipe ? T.swipe.left : null, swipeX: 0.5, layers: {}};
    G.maps[d.map_id] = st;
    hatchDefs(d);
    [['gi-basemap', 250], ['gi-left', 410], ['gi-main', 420], ['gi-change', 430], ['gi-markers', 620]]
      .forEach(function (p) { map.createPane(p[0]).style.zIndex = p[1]; });
    var overlays = {};
    var bases = baseLayers(map, d, inv, overlays);
    areaLayers(st, inv);
    st.show('main', T.start);
    if (d.change && d.change.polygons.length) overlays['Change'] = changeLayer(map, d, inv);
    if (d.places.markers.length) overlays['Places'] = markerLayer(map, d);

    // controls: title + side panel, layer switcher, legend, time slider, swipe
    if (d.title || d.notice || d.places.outside.length || d.places.unlocated.length) {
      control('topright', 'gi-panel', function (div) { panel(div, d); }).addTo(map);
    }
    if (Object.keys(overlays).length || Object.keys(bases).length > 1) L.control.layers(bases, overlays, {position: 'topright'}).addTo(map);
    if (hasLegend(d)) control('bottomright', 'gi-legend', function (div) { legend(div, d); }).addTo(map);
    var slider = timeControl(st);
    if (slider) slider.addTo(map);
    if (T.swipe) initSwipe(st);

    map.fitBounds(d.view.bounds, {animate: false});  // at once: a screenshot must not catch a zoom animation
    if (T.swipe && T.swipe.lon !== null) {
      // start the swipe on the change (not at mid-width, which may leave the whole front on one side)
      var c = map.getCenter(), size = map.getSize();
      st.swipeX = Math.max(0.1, Math.min(0.9, map.latLngToContainerPoint([c.lat, T.swipe.lon]).x / size.x));
      st.clip();
    }
    G.ready = true;
    box.setAttribute('data-gi-ready', '1');
    return st;
  };

  function initSwipe(st) {
    var map = st.map, S = st.data.time.swipe, box = map.getContainer();
    st.show('left', S.left);
    var bar = el('div', 'gi-swipe', box);
    var handle = el('div', 'gi-swipe-handle', bar);
    handle.title = 'drag to compare ' + S.left_label + ' and ' + S.right_label;
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
    L.DomEvent.on(document, 'pointerup pointercancel', function () { if (dragging) { dragging = false; map.dragging.enable(); } });
    map.on('move zoom resize viewreset zoomend moveend', clip);
    clip();
  }
})();
