"""Attacks on published routes: where does the runner live?

Every attack is a pure function of

* `routes`: published route points (`activity_id` or `public_activity_id`, `seq`, `segment`,
  `lat_deg`, `lon_deg`), as `public/routes` or `publish_routes(...)` gives them;
* `distances`: published distances (`activity_id` or `public_activity_id`, `distance_m`);
* optionally `focus` (lat, lon) and `radius_m`: the attacker already knows the neighbourhood and
  looks only at route ends within `radius_m` of `focus` (the focus is used for that selection,
  never as an answer);
* for the road-network attack, the `StreetNetwork` (what OpenStreetMap gives anyone),

and returns an estimated (lat, lon) (NaN, NaN when it has nothing to work with). `run_all` runs
them all; `errors_m` scores them against the truth; `closest_published_point_m` is the plainest
leak of all.

An "end" is the first or last published point of a segment (a route's start or finish, or the
edge of a gap a zone cut); its outward direction points from the route into the hidden part,
estimated from the published points within the first 40 m.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from tests.privacy.streets import EARTH_RADIUS_M, StreetNetwork, haversine_np, to_latlon, to_local

LatLon = tuple[float, float]
NAN: LatLon = (math.nan, math.nan)
DIRECTION_BASE_M = 40.0
EXTRAPOLATE_M = (100.0, 200.0, 300.0, 400.0)

# --------------------------------------------------------------------------------------------
# frames → ends


def _id_col(frame: pl.DataFrame) -> str:
    return "activity_id" if "activity_id" in frame.columns else "public_activity_id"


@dataclass
class Ends:
    """Route ends in local metres around (lat0, lon0)."""

    lat0: float
    lon0: float
    xy: np.ndarray  # (n, 2)
    u: np.ndarray  # (n, 2) outward unit direction (0 when unknown)
    aid: np.ndarray  # (n,) activity id
    first: np.ndarray  # (n,) True for the route's very first published point
    last: np.ndarray  # (n,) True for the route's very last published point

    def latlon(self, p: np.ndarray) -> LatLon:
        if p is None or not np.all(np.isfinite(p)):
            return NAN
        lat, lon = to_latlon(p[0], p[1], self.lat0, self.lon0)
        return float(lat), float(lon)

    def take(self, mask: np.ndarray) -> Ends:
        return Ends(self.lat0, self.lon0, self.xy[mask], self.u[mask], self.aid[mask], self.first[mask], self.last[mask])


@dataclass
class RouteInfo:
    """Per published route: published length (within segments), straight gaps between segments."""

    aid: list[str]
    length_m: np.ndarray
    gap_m: np.ndarray


def _outward(xy: np.ndarray) -> np.ndarray:
    """Unit vector from the published points near xy[0] towards xy[0] (into the hidden part)."""
    d = np.linalg.norm(xy - xy[0], axis=1)
    far = np.nonzero(d >= DIRECTION_BASE_M)[0]
    j = far[0] if len(far) else (len(xy) - 1)
    v = xy[0] - xy[j]
    n = np.linalg.norm(v)
    return v / n if n > 0 else np.zeros(2)


def route_ends(routes: pl.DataFrame, lat0: float | None = None, lon0: float | None = None) -> tuple[Ends, RouteInfo]:
    by = _id_col(routes)
    r = routes.sort(by, "seq")
    if lat0 is None or lon0 is None:
        lat0, lon0 = (float(r["lat_deg"].mean() or 0.0), float(r["lon_deg"].mean() or 0.0)) if r.height else (0.0, 0.0)
    x, y = to_local(r["lat_deg"].to_numpy(), r["lon_deg"].to_numpy(), lat0, lon0)
    xy = np.stack([x, y], axis=1)
    ids = r[by].to_numpy()
    seg = r["segment"].to_numpy()
    n = len(ids)
    pts, dirs, aids, firsts, lasts = [], [], [], [], []
    info_aid, info_len, info_gap = [], [], []
    if n:
        new_route = np.concatenate([[True], ids[1:] != ids[:-1]])
        new_seg = new_route | np.concatenate([[True], seg[1:] != seg[:-1]])
        seg_starts = np.nonzero(new_seg)[0]
        seg_ends = np.concatenate([seg_starts[1:], [n]])
        route_of_seg = np.cumsum(new_route)[seg_starts] - 1
        lat, lon = r["lat_deg"].to_numpy(), r["lon_deg"].to_numpy()
        step = np.concatenate([[0.0], haversine_np(lat[:-1], lon[:-1], lat[1:], lon[1:])])
        step[new_seg] = 0.0
        for rid in np.unique(route_of_seg):
            segs = np.nonzero(route_of_seg == rid)[0]
            a, b = seg_starts[segs[0]], seg_ends[segs[-1]]
            info_aid.append(str(ids[a]))
            info_len.append(float(step[a:b].sum()))
            gap = sum(
                float(haversine_np(lat[seg_starts[s2]], lon[seg_starts[s2]], lat[seg_ends[s1] - 1], lon[seg_ends[s1] - 1]))
                for s1, s2 in zip(segs[:-1], segs[1:])
            )
            info_gap.append(gap)
            for k, s in enumerate(segs):
                piece = xy[seg_starts[s] : seg_ends[s]]
                pts += [piece[0], piece[-1]]
                dirs += [_outward(piece), _outward(piece[::-1])]
                aids += [ids[a], ids[a]]
                firsts += [k == 0, False]
                lasts += [False, k == len(segs) - 1]
    ends = Ends(
        lat0,
        lon0,
        np.array(pts).reshape(-1, 2),
        np.array(dirs).reshape(-1, 2),
        np.array(aids, dtype=object),
        np.array(firsts, dtype=bool),
        np.array(lasts, dtype=bool),
    )
    return ends, RouteInfo(info_aid, np.array(info_len), np.array(info_gap))


def _select(ends: Ends, radius_m: float | None) -> Ends:
    """Ends within `radius_m` of the local origin (the focus)."""
    if radius_m is None:
        return ends
    return ends.take(np.linalg.norm(ends.xy, axis=1) <= radius_m)


# --------------------------------------------------------------------------------------------
# estimators on points


def geometric_median(p: np.ndarray, iters: int = 200, eps: float = 1e-3) -> np.ndarray:
    """Weiszfeld's algorithm."""
    if len(p) == 0:
        return np.full(2, np.nan)
    m = p.mean(axis=0)
    for _ in range(iters):
        d = np.maximum(np.linalg.norm(p - m, axis=1), 1e-6)
        w = 1.0 / d
        new = (p * w[:, None]).sum(axis=0) / w.sum()
        if np.linalg.norm(new - m) < eps:
            return new
        m = new
    return m


def kasa_circle(p: np.ndarray) -> np.ndarray:
    """Algebraic (Kåsa) least-squares circle centre."""
    if len(p) < 3:
        return np.full(2, np.nan)
    c = p.mean(axis=0)
    q = p - c
    a = np.column_stack([q[:, 0], q[:, 1], np.ones(len(q))])
    b = -(q**2).sum(axis=1)
    sol, *_ = np.linalg.lstsq(a, b, rcond=None)
    return c + np.array([-sol[0] / 2, -sol[1] / 2])


def kde_mode(p: np.ndarray, bandwidth_m: float = 40.0) -> np.ndarray:
    """Mode of a Gaussian kernel density of the points (10 m grid, refined at 2 m)."""
    if len(p) == 0:
        return np.full(2, np.nan)

    def best(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        gx, gy = np.meshgrid(xs, ys, indexing="ij")
        g = np.stack([gx.ravel(), gy.ravel()], axis=1)
        dens = np.zeros(len(g))
        for chunk in np.array_split(np.arange(len(p)), max(1, len(p) // 32)):
            d2 = ((g[:, None, :] - p[None, chunk, :]) ** 2).sum(axis=2)
            dens += np.exp(-d2 / (2 * bandwidth_m**2)).sum(axis=1)
        return g[np.argmax(dens)]

    lo, hi = p.min(axis=0) - 2 * bandwidth_m, p.max(axis=0) + 2 * bandwidth_m
    m = best(np.arange(lo[0], hi[0] + 10, 10.0), np.arange(lo[1], hi[1] + 10, 10.0))
    return best(np.arange(m[0] - 10, m[0] + 10.1, 2.0), np.arange(m[1] - 10, m[1] + 10.1, 2.0))


def lines_least_squares(p: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The point nearest (least squares) to all lines through p along u."""
    ok = np.linalg.norm(u, axis=1) > 0
    p, u = p[ok], u[ok]
    if len(p) < 2:
        return np.full(2, np.nan)
    proj = np.eye(2)[None] - u[:, :, None] * u[:, None, :]
    a = proj.sum(axis=0)
    b = (proj @ p[:, :, None]).sum(axis=0)[:, 0]
    sol, *_ = np.linalg.lstsq(a, b, rcond=None)
    return sol


def pairwise_intersections(p: np.ndarray, u: np.ndarray, max_t: float = 1500.0, min_sin: float = 0.3) -> np.ndarray:
    """Intersections of the outward rays of every pair of ends (crossing at a clear angle, ahead
    of both ends, within max_t)."""
    ok = np.linalg.norm(u, axis=1) > 0
    p, u = p[ok], u[ok]
    i, j = np.triu_indices(len(p), k=1)
    if len(i) == 0:
        return np.empty((0, 2))
    cross = u[i, 0] * u[j, 1] - u[i, 1] * u[j, 0]
    good = np.abs(cross) > min_sin
    i, j, cross = i[good], j[good], cross[good]
    d = p[j] - p[i]
    ti = (d[:, 0] * u[j, 1] - d[:, 1] * u[j, 0]) / cross
    tj = (d[:, 0] * u[i, 1] - d[:, 1] * u[i, 0]) / cross
    ahead = (ti > 0) & (tj > 0) & (ti < max_t) & (tj < max_t)
    return p[i[ahead]] + ti[ahead, None] * u[i[ahead]]


# --------------------------------------------------------------------------------------------
# distances


def hidden_lengths(ends: Ends, info: RouteInfo, distances: pl.DataFrame, calibrate: bool) -> dict[str, float]:
    """Per route: published distance − published length − straight gaps (what the trim and the
    zones hid). With `calibrate`, the GPS-noise excess of the published distance over a 10 m
    polyline is fitted first (distance − length = a + k·length over all routes) and removed."""
    by = _id_col(distances)
    dist = dict(zip(distances[by].cast(pl.Utf8).to_list(), distances["distance_m"].to_list()))
    aid = [a for a in info.aid if dist.get(a) is not None]
    if not aid:
        return {}
    pos = {a: k for k, a in enumerate(info.aid)}
    length = np.array([info.length_m[pos[a]] for a in aid])
    gap = np.array([info.gap_m[pos[a]] for a in aid])
    total = np.array([dist[a] for a in aid], dtype=np.float64)
    k = 0.0
    if calibrate and len(aid) >= 5 and np.ptp(length) > 0:
        a_mat = np.column_stack([np.ones(len(aid)), length])
        (_, k), *_ = np.linalg.lstsq(a_mat, total - length, rcond=None)
        k = float(np.clip(k, 0.0, 0.2))
    hidden = total - (1 + k) * length - gap
    return dict(zip(aid, hidden))


def _paired(ends: Ends) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(aid, index of first end, index of last end) for routes with both ends selected."""
    first = {a: k for k, a in enumerate(ends.aid) if ends.first[k]}
    last = {a: k for k, a in enumerate(ends.aid) if ends.last[k]}
    both = [a for a in first if a in last]
    return np.array(both, dtype=object), np.array([first[a] for a in both], dtype=int), np.array([last[a] for a in both], dtype=int)


def distance_difference(ends: Ends, hidden: dict[str, float]) -> np.ndarray:
    """Extend each route's first and last end outward by half of its hidden length; geometric
    median of the extended points."""
    aid, fi, li = _paired(ends)
    keep = np.array([a in hidden for a in aid], dtype=bool)
    if not keep.any():
        return np.full(2, np.nan)
    aid, fi, li = aid[keep], fi[keep], li[keep]
    half = np.maximum(np.array([hidden[a] for a in aid]) / 2, 0.0)
    pts = np.concatenate([ends.xy[fi] + half[:, None] * ends.u[fi], ends.xy[li] + half[:, None] * ends.u[li]])
    return geometric_median(pts)


# --------------------------------------------------------------------------------------------
# road network (Dhondt et al., CCS 2022)


def _local_network(streets: StreetNetwork, ends: Ends, keep_m: float) -> tuple[np.ndarray, np.ndarray]:
    x, y = to_local(streets.nodes[:, 0], streets.nodes[:, 1], ends.lat0, ends.lon0)
    nodes = np.stack([x, y], axis=1)
    centre = ends.xy.mean(axis=0)
    keep = np.linalg.norm(nodes - centre, axis=1) <= keep_m
    e = streets.edges[keep[streets.edges[:, 0]] & keep[streets.edges[:, 1]]]
    new = -np.ones(len(nodes), dtype=int)
    new[keep] = np.arange(keep.sum())
    return nodes[keep], new[e]


def _snap(nodes: np.ndarray, edges: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(edge index, offset from the edge's first node) of the nearest street point to each p."""
    a, b = nodes[edges[:, 0]], nodes[edges[:, 1]]
    ab = b - a
    length2 = np.maximum((ab**2).sum(axis=1), 1e-9)
    t = np.clip((((p[:, None, :] - a[None]) * ab[None]).sum(axis=2)) / length2[None], 0.0, 1.0)
    proj = a[None] + t[:, :, None] * ab[None]
    e = np.argmin(((p[:, None, :] - proj) ** 2).sum(axis=2), axis=1)
    return e, t[np.arange(len(p)), e] * np.sqrt(length2[e])


def _dijkstra(adj: list[list[tuple[int, float]]], init: dict[int, float]) -> np.ndarray:
    dist = np.full(len(adj), np.inf)
    heap = []
    for v, d in init.items():
        if d < dist[v]:
            dist[v] = d
            heap.append((d, v))
    heapq.heapify(heap)
    while heap:
        d, v = heapq.heappop(heap)
        if d > dist[v]:
            continue
        for w, length in adj[v]:
            nd = d + length
            if nd < dist[w]:
                dist[w] = nd
                heapq.heappush(heap, (nd, w))
    return dist


def road_network(
    ends: Ends,
    hidden: dict[str, float],
    streets: StreetNetwork,
    radius_m: float | None,
    fit: bool = True,
    cap_m: float = 100.0,
    step_m: float = 10.0,
) -> np.ndarray:
    """For every candidate street point (every `step_m` along every street near the ends), the
    shortest street-path lengths to each route's first and last published point should add up
    to what the route hid (`hidden`: published distance − published length − gaps). The
    candidate whose sums fit best (capped squared residuals) wins (Dhondt et al., CCS 2022).

    With `fit`, a common shortfall is allowed per candidate (the median residual, when
    negative, is removed): GPS jitter standing at the door adds hidden distance that no street
    explains. (Fitting also a per-candidate noise factor k·length overfits: tried, worse.)
    `hidden` should be calibrated (`hidden_lengths(..., calibrate=True)`)."""
    aid, fi, li = _paired(ends)
    keep = np.array([a in hidden for a in aid], dtype=bool)
    if keep.sum() < 2:
        return np.full(2, np.nan)
    aid, fi, li = aid[keep], fi[keep], li[keep]
    h = np.array([hidden[a] for a in aid])
    span = float(np.max(np.linalg.norm(ends.xy - ends.xy.mean(axis=0), axis=1)))
    nodes, edges = _local_network(streets, ends, span + 1500.0)
    if len(edges) == 0:
        return np.full(2, np.nan)
    elen = np.linalg.norm(nodes[edges[:, 1]] - nodes[edges[:, 0]], axis=1)
    adj: list[list[tuple[int, float]]] = [[] for _ in range(len(nodes))]
    for (a, b), length in zip(edges.tolist(), elen.tolist()):
        adj[a].append((b, length))
        adj[b].append((a, length))
    # candidates
    ce_list, ct_list = [], []
    for k, length in enumerate(elen):
        t = np.arange(0.0, length, step_m)
        ce_list.append(np.full(len(t), k))
        ct_list.append(t)
    ce, ct = np.concatenate(ce_list), np.concatenate(ct_list)
    cxy = nodes[edges[ce, 0]] + (ct / elen[ce])[:, None] * (nodes[edges[ce, 1]] - nodes[edges[ce, 0]])
    limit = radius_m if radius_m is not None else span + 500.0
    centre = np.zeros(2) if radius_m is not None else ends.xy.mean(axis=0)
    inside = np.linalg.norm(cxy - centre, axis=1) <= limit
    ce, ct, cxy = ce[inside], ct[inside], cxy[inside]
    # street distance from every used end to every candidate
    used = np.unique(np.concatenate([fi, li]))
    se, st = _snap(nodes, edges, ends.xy[used])
    dcand = {}
    for k, e, t in zip(used.tolist(), se.tolist(), st.tolist()):
        u, v = edges[e]
        dist = _dijkstra(adj, {int(u): t, int(v): elen[e] - t})
        d = np.minimum(dist[edges[ce, 0]] + ct, dist[edges[ce, 1]] + elen[ce] - ct)
        same = ce == e
        d[same] = np.minimum(d[same], np.abs(ct[same] - t))
        # the published point itself is off the street by GPS error; add that
        dcand[k] = d + float(np.linalg.norm(ends.xy[k] - (nodes[u] + t / elen[e] * (nodes[v] - nodes[u]))))
    r = np.stack([dcand[f] + dcand[last] for f, last in zip(fi.tolist(), li.tolist())], axis=1) - h[None, :]
    if fit:
        r = r - np.minimum(np.median(r, axis=1), 0.0)[:, None]
    cost = np.minimum(r**2, cap_m**2).sum(axis=1)
    return cxy[np.argmin(cost)]


# --------------------------------------------------------------------------------------------
# all attacks


def run_all(
    routes: pl.DataFrame,
    distances: pl.DataFrame | None = None,
    focus: LatLon | None = None,
    radius_m: float | None = None,
    streets: StreetNetwork | None = None,
) -> dict[str, LatLon]:
    """Every attack's estimate of the base near `focus` (or of the single base the routes share)."""
    if focus is not None:
        all_ends, info = route_ends(routes, *focus)
        ends = _select(all_ends, radius_m)
    else:
        all_ends, info = route_ends(routes)
        ends = all_ends
    out: dict[str, LatLon] = {}
    if len(ends.xy) == 0:
        names = ["ends_mean", "ends_geomedian", "kde_mode", *[f"extrapolate_{int(d)}m" for d in EXTRAPOLATE_M]]
        names += ["extrapolate_best", "circle_kasa", "lines_lsq", "lines_pairwise_median", "distance_diff", "distance_diff_calibrated"]
        if streets is not None:
            names += ["road_network", "road_network_exact"]
        return {n: NAN for n in names}
    p, u = ends.xy, ends.u
    out["ends_mean"] = ends.latlon(p.mean(axis=0))
    out["ends_geomedian"] = ends.latlon(geometric_median(p))
    out["kde_mode"] = ends.latlon(kde_mode(p))
    for d in EXTRAPOLATE_M:
        out[f"extrapolate_{int(d)}m"] = ends.latlon(geometric_median(p + d * u))
    # the attacker picks the extension that makes the extended ends most concentrated
    spreads = []
    for d in np.arange(0.0, 801.0, 25.0):
        q = p + d * u
        m = geometric_median(q)
        spreads.append((float(np.median(np.linalg.norm(q - m, axis=1))), m))
    out["extrapolate_best"] = ends.latlon(min(spreads, key=lambda s: s[0])[1])
    out["circle_kasa"] = ends.latlon(kasa_circle(p))
    out["lines_lsq"] = ends.latlon(lines_least_squares(p, u))
    inter = pairwise_intersections(p, u)
    out["lines_pairwise_median"] = ends.latlon(np.median(inter, axis=0) if len(inter) else None)
    if distances is not None:
        raw = hidden_lengths(all_ends, info, distances, calibrate=False)
        cal = hidden_lengths(all_ends, info, distances, calibrate=True)
        out["distance_diff"] = ends.latlon(distance_difference(ends, raw))
        out["distance_diff_calibrated"] = ends.latlon(distance_difference(ends, cal))
        if streets is not None:
            out["road_network"] = ends.latlon(road_network(ends, cal, streets, radius_m, fit=True))
            out["road_network_exact"] = ends.latlon(road_network(ends, cal, streets, radius_m, fit=False))
    return out


def errors_m(estimates: dict[str, LatLon], truth: LatLon) -> dict[str, float]:
    """Metres from each estimate to the truth (inf for an attack that gave no answer)."""
    out = {}
    for name, (lat, lon) in estimates.items():
        if not (math.isfinite(lat) and math.isfinite(lon)):
            out[name] = math.inf
        else:
            out[name] = float(haversine_np(lat, lon, truth[0], truth[1]))
    return out


def closest_published_point_m(routes: pl.DataFrame, truth: LatLon) -> float:
    if routes.height == 0:
        return math.inf
    return float(haversine_np(routes["lat_deg"].to_numpy(), routes["lon_deg"].to_numpy(), truth[0], truth[1]).min())


# --------------------------------------------------------------------------------------------
# what gets published


def published_distance_frame(fixes: pl.DataFrame, rounding: float | Callable[[pl.Expr], pl.Expr] | None = None) -> pl.DataFrame:
    """`activity_id`, `distance_m`: each activity's haversine length of its fixes, as the public
    layer would publish it. `rounding`: None (exact), a step in metres (nearest multiple), or a
    function of the `distance_m` expression."""
    from tests.privacy.streets import true_distances

    out = true_distances(fixes)
    if rounding is None:
        return out
    if callable(rounding):
        return out.with_columns(distance_m=rounding(pl.col("distance_m")))
    return out.with_columns(distance_m=(pl.col("distance_m") / rounding).round(0) * rounding)


def publish_raw(fixes: pl.DataFrame) -> pl.DataFrame:
    """No protection: every fix, one segment."""
    return fixes.select("activity_id", "seq", pl.lit(0, dtype=pl.Int32).alias("segment"), "lat_deg", "lon_deg")


def publish_naive(fixes: pl.DataFrame, zones: tuple = (), trim_m: float = 200.0) -> pl.DataFrame:
    """The anonymization runlake had before issue 12, kept here as the baseline the attacks must
    beat: trim `trim_m` measured along the route from each end, then drop points inside circular
    zones centred where they were configured (no places, no offsets, no shapes)."""
    from marts.geo import haversine_m

    by = "activity_id"
    fixes = (
        fixes.lazy().select(by, "seq", "lat_deg", "lon_deg").sort(by, "seq")
        .with_columns(step_m=haversine_m(pl.col("lat_deg"), pl.col("lon_deg"), pl.col("lat_deg").shift(1).over(by),
                                         pl.col("lon_deg").shift(1).over(by)).fill_null(0.0))
        .with_columns(along_m=pl.col("step_m").cum_sum().over(by), total_m=pl.col("step_m").sum().over(by))
        .filter((pl.col("total_m") > 2 * trim_m) & (pl.col("along_m") >= trim_m) & (pl.col("total_m") - pl.col("along_m") >= trim_m))
        .with_columns(bucket=(pl.col("along_m") / pl.max_horizontal(pl.lit(10.0), pl.col("total_m") / 800)).floor())
        .filter(pl.col("bucket").is_first_distinct().over(by))
        .with_columns(pl.col("lat_deg").round(5), pl.col("lon_deg").round(5))
    )
    inside = pl.any_horizontal([haversine_m(pl.col("lat_deg"), pl.col("lon_deg"), z.lat_deg, z.lon_deg)
                                <= z.radius_m * 1.005 + 1.0 for z in zones]) if zones else pl.lit(False)
    kept = fixes.with_columns(inside=inside).with_columns(
        segment=(pl.col("inside").not_() & pl.col("inside").shift(1, fill_value=False).over(by)).cum_sum().over(by)
    ).filter(~pl.col("inside"))
    return kept.select(by, seq=pl.int_range(pl.len()).over(by).cast(pl.Int32), segment=pl.col("segment").cast(pl.Int32),
                       lat_deg="lat_deg", lon_deg="lon_deg").collect()


def offset_point(origin: LatLon, east_m: float, north_m: float) -> LatLon:
    """The point `east_m`, `north_m` from origin (local plane)."""
    lat = origin[0] + math.degrees(north_m / EARTH_RADIUS_M)
    lon = origin[1] + math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(origin[0]))))
    return lat, lon
