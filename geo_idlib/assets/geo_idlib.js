/* geo_idlib map controls: areas by date (time slider), before/after swipe, change, places, legend,
 * side panel. Plain Leaflet 1.9, no other library. Data comes from render.build_map (one JSON
 * document); every HTML string in it was escaped in Python. MIT licence, part of geo_idlib. */
(function () {
  'use strict';
  var G = window.geoIdlib = window.geoIdlib || {ready: false, maps: {}};

  function cssId(s) { return String(s).replace(/[^A-Za-z0-9_-]/g, '_'); }

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
  function el(tag, cls, parent) { var e = L.DomUtil.create(tag, cls, parent); return e; }
  function control(pos, cls, build) {
    var C = L.Control.extend({onAdd: function () {
      var div = el('div', cls + ' leaflet-bar gi-box');
      L.DomEvent.disableClickPropagation(div); L.DomEvent.disableScrollPropagation(div);
      build(div); return div;
    }});
    return new C({position: pos});
  }

  function hatchDefs(d) {  // one SVG pattern per actor: fill="url(#gi-hatch-N)"
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('width', '0'); svg.setAttribute('height', '0');
    svg.setAttribute('style', 'position:absolute;width:0;height:0');
    svg.setAttribute('aria-hidden', 'true');
    var defs = document.createElementNS(ns, 'defs'); svg.appendChild(defs);
    d.actors.forEach(function (a, i) {
      var p = document.createElementNS(ns, 'pattern');
      p.setAttribute('id', 'gi-hatch-' + i); p.setAttribute('patternUnits', 'userSpaceOnUse');
      p.setAttribute('width', '8'); p.setAttribute('height', '8');
      p.setAttribute('patternTransform', 'rotate(45)');
      var r = document.createElementNS(ns, 'rect');
      r.setAttribute('width', '3'); r.setAttribute('height', '8'); r.setAttribute('fill', a.color);
      p.appendChild(r); defs.appendChild(p);
    });
    document.body.appendChild(svg);
  }

  G.init = function (map, d) {
    var inv = Math.round(1 / d.quantum);
    var box = map.getContainer();
    box.style.background = d.background;
    var st = {map: map, data: d, main: d.start, left: d.swipe ? d.swipe.left : null, swipeX: 0.5, layers: {}};
    G.maps[d.map_id] = st;
    hatchDefs(d);
    [['gi-basemap', 250], ['gi-left', 410], ['gi-main', 420], ['gi-change', 430], ['gi-markers', 620]]
      .forEach(function (p) { map.createPane(p[0]).style.zIndex = p[1]; });
    var overlays = {};

    // ---- base layers
    var bases = {};
    (d.tiles || []).forEach(function (t, i) {
      var lyr = L.tileLayer(t.url, {attribution: t.attribution, maxZoom: t.max_zoom});
      bases[t.name] = lyr; if (i === 0) lyr.addTo(map);
    });
    if (d.basemap) {
      var bs = d.basemap_style, bm = L.layerGroup();
      if (d.basemap.countries) L.polygon(d.basemap.countries.map(function (g) { return decodeGeom(g, inv); }),
        {pane: 'gi-basemap', interactive: false, color: bs.country_line, weight: 1, fillColor: bs.land,
         fillOpacity: 1, fillRule: 'nonzero', className: 'gi-basemap gi-countries'}).addTo(bm);
      if (d.basemap.admin1) L.polygon(d.basemap.admin1.map(function (g) { return decodeGeom(g, inv); }),
        {pane: 'gi-basemap', interactive: false, color: bs.admin1_line, weight: 0.7, dashArray: '3 3',
         fill: false, className: 'gi-basemap gi-admin1'}).addTo(bm);
      bm.addTo(map); overlays['Basemap (Natural Earth)'] = bm;
      box.setAttribute('data-gi-basemap', '1');
    }

    // ---- areas: faces switched on by date, merged per actor into one path per pane
    var faces = d.faces.map(function (f) { return decodeGeom(f, inv); });
    function actorLayer(a, pane) {
      var s = d.actors[a];
      return L.polygon([], {pane: pane, stroke: false, fillOpacity: d.area_opacity, fillRule: 'nonzero',
        fillColor: s.hatch ? 'url(#gi-hatch-' + a + ')' : s.color, interactive: false,
        className: 'gi-area gi-actor-' + cssId(s.id)});
    }
    var panes = {main: 'gi-main', left: 'gi-left'};
    Object.keys(panes).forEach(function (k) {
      st.layers[k] = d.actors.map(function (_, a) { return actorLayer(a, panes[k]); });
    });
    function show(which, k) {
      var per = d.actors.map(function () { return []; });
      if (k !== null && k !== undefined) {
        for (var i = 0; i < d.runs.length; i++) {
          var r = d.runs[i];
          if (r[1] <= k && k < r[2]) Array.prototype.push.apply(per[r[3]], faces[r[0]]);
        }
      }
      st.layers[which].forEach(function (lyr, a) {
        if (per[a].length) { lyr.setLatLngs(per[a]); if (!map.hasLayer(lyr)) lyr.addTo(map); }
        else if (map.hasLayer(lyr)) map.removeLayer(lyr);
      });
      st[which] = k;
      box.setAttribute('data-gi-' + which, k === null || k === undefined ? '' : d.dates[k]);
    }
    st.show = show;
    show('main', d.start);

    // ---- change D1 → D2
    if (d.change && d.change.length) {
      var ch = L.layerGroup();
      d.change.forEach(function (c) {
        var from = c.from >= 0 ? d.actors[c.from] : null;
        L.polygon(decodeGeom(c.g, inv), {pane: 'gi-change', weight: 1.5, dashArray: '5 4', fillRule: 'nonzero',
          color: from ? from.color : '#555', fillColor: c.to >= 0 ? 'url(#gi-hatch-' + c.to + ')' : '#ffffff',
          fillOpacity: 0.9, className: 'gi-change', interactive: false}).addTo(ch);
      });
      ch.addTo(map); overlays['Change'] = ch;
    }

    // ---- places
    if (d.markers && d.markers.length) {
      var mk = L.layerGroup();
      d.markers.forEach(function (m) {
        var color = m.actor >= 0 ? d.actors[m.actor].color : '#ffffff';
        L.circleMarker([m.lat, m.lon], {pane: 'gi-markers', radius: 6, weight: 1.5, color: d.marker_stroke,
          fillColor: color, fillOpacity: d.marker_opacity, className: 'gi-marker'})
          .bindPopup(m.popup, {maxWidth: 360}).bindTooltip(m.tooltip).addTo(mk);
      });
      mk.addTo(map); overlays['Places'] = mk;
    }

    // ---- controls: title + side panel, legend, time slider, swipe, layer switcher
    if (d.title || d.panel) control('topright', 'gi-panel', function (div) {
      if (d.title) el('div', 'gi-title', div).innerHTML = d.title;
      if (d.panel) el('div', 'gi-panel-body', div).innerHTML = d.panel;
    }).addTo(map);
    if (Object.keys(overlays).length || Object.keys(bases).length > 1) L.control.layers(bases, overlays, {position: 'topright'}).addTo(map);
    if (d.legend) control('bottomright', 'gi-legend', function (div) { div.innerHTML = d.legend; }).addTo(map);
    if (d.slider && d.slider.length > 1) control('bottomleft', 'gi-slider', function (div) {
      var lab = el('div', 'gi-slider-label', div);
      var inp = el('input', 'gi-slider-input', div);
      inp.type = 'range'; inp.min = 0; inp.max = d.slider.length - 1; inp.step = 1;
      inp.setAttribute('aria-label', 'date');
      var pos = 0;
      for (var i = 0; i < d.slider.length; i++) if (d.start !== null && d.slider[i] <= d.start) pos = i;
      inp.value = pos;
      var range = el('div', 'gi-slider-range', div);
      range.textContent = d.dates[d.slider[0]] + ' \u2026 ' + d.dates[d.slider[d.slider.length - 1]];
      function text(k) { return (d.swipe ? 'right: ' : '') + 'areas since ' + d.dates[k]; }
      function upd() { var k = d.slider[+inp.value]; show('main', k); lab.textContent = text(k); }
      L.DomEvent.on(inp, 'input change', upd);
      lab.textContent = d.start !== null ? text(d.start) : '';
      st.slider = inp;
    }).addTo(map);
    else if (d.start !== null && d.dates.length && d.date_label) control('bottomleft', 'gi-slider', function (div) {
      el('div', 'gi-slider-label', div).textContent = d.dates[d.start];
    }).addTo(map);
    if (d.swipe) initSwipe(st);

    map.fitBounds(d.bounds, {animate: false});  // at once: a screenshot must not catch a zoom animation
    if (d.swipe && d.swipe.lon !== null && d.swipe.lon !== undefined) {
      // start the swipe on the change (not at mid-width, which may leave the whole front on one side)
      var c = map.getCenter(), size = map.getSize();
      st.swipeX = Math.max(0.1, Math.min(0.9, map.latLngToContainerPoint([c.lat, d.swipe.lon]).x / size.x));
      st.clip();
    }
    G.ready = true;
    box.setAttribute('data-gi-ready', '1');
    return st;
  };

  function initSwipe(st) {
    var map = st.map, d = st.data, box = map.getContainer();
    st.show('left', d.swipe.left);
    var bar = el('div', 'gi-swipe', box);
    var handle = el('div', 'gi-swipe-handle', bar);
    handle.setAttribute('title', 'drag to compare ' + d.swipe.left_label + ' and ' + d.swipe.right_label);
    el('div', 'gi-swipe-tag gi-swipe-left', bar).textContent = d.swipe.left_label;
    el('div', 'gi-swipe-tag gi-swipe-right', bar).textContent = d.swipe.right_label;
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
