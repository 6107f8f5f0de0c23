#!/usr/bin/env python3
"""Converts the CC0 MakeHuman hm08 assets into the compact body-model asset the project ships.

Developer tool: users never run it; its output `data/body/assets/makehuman_body.bin` is committed and embedded
into the binaries at build time (see data/body/BUILD). Uses only Python's standard library.

    python3 data/body/tools/convert_makehuman.py \
        --makehuman path/to/makehuman \
        --out data/body/assets/makehuman_body.bin

What it keeps (docs/rendering.md explains the choices):
  * the `body` group of 3dobjs/base.obj (13,380 vertices, quads split into triangles), converted from
    decimetres to metres, y up, facing +z, the ground cube at y = 0 and the pelvis joint at x = z = 0;
    boundary loops (the eye sockets) are closed with fans around their centroid so the mesh is watertight
    and back faces can be culled;
  * the 53 bones of rigs/standard/rig.game_engine.json: parent, and head/tail as "joint points", i.e. the
    mean of the joint-cube (or listed) vertices, appended after the mesh vertices so shape targets move them;
  * linear-blend-skinning weights (rigs/standard/weights.game_engine.json) restricted to the body vertices,
    the 4 largest per vertex, renormalised;
  * the young-adult macro targets (race x gender, universal gender/muscle/weight, height), restricted to the
    body vertices + joint points, stored sparse, quantised to int16 steps of 2^-15 m, identical targets stored
    once (all 36 height targets reduce to 2).

Binary layout (little endian), version 1:
  char[8] "GCLBODY1"
  u32 num_vertices, num_points (vertices + joint points), num_triangles, num_bones, num_blocks, num_targets
  f32[num_points][3] rest positions (metres)
  u16[num_triangles][3]
  per vertex: u8[4] bone indices, u16[4] weights (sum 65535)
  per bone: u8 name_len, name, i16 parent (-1 = none), u16 head point, u16 tail point
  per block: u32 count, then count x (u16 point, i16 dx, i16 dy, i16 dz)
  per target: u8 name_len, name (e.g. "african-male-young"), u16 block
"""

import argparse
import gzip
import json
import math
import os
import struct
import sys

DM_TO_M = 0.1
DELTA_STEP = 1.0 / 32768.0  # metres per int16 unit of a target delta
MAX_INFLUENCES = 4


def fail(msg):
    sys.stderr.write("convert_makehuman: error: " + msg + "\n")
    sys.exit(1)


def read_obj(path):
    verts = []
    body_faces = []
    group = None
    with open(path) as f:
        for line in f:
            if line.startswith("v "):
                p = line.split()
                verts.append((float(p[1]), float(p[2]), float(p[3])))
            elif line.startswith("g "):
                group = line.split()[1]
            elif line.startswith("f ") and group == "body":
                body_faces.append([int(tok.split("/")[0]) - 1 for tok in line.split()[1:]])
    if not verts or not body_faces:
        fail("%s: no vertices or no faces in group 'body'" % path)
    return verts, body_faces


def read_target(path):
    deltas = {}
    with gzip.open(path, "rt") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            p = line.split()
            if len(p) != 4:
                fail("%s:%d: expected 'index dx dy dz'" % (path, n))
            deltas[int(p[0])] = (float(p[1]), float(p[2]), float(p[3]))
    return deltas


def close_boundary_loops(faces, num_vertices, verts):
    """Returns fan triangles (appending one centroid vertex per loop) that close every boundary loop."""
    edge_count = {}
    for f in faces:
        for i in range(len(f)):
            a, b = f[i], f[(i + 1) % len(f)]
            edge_count[(a, b)] = edge_count.get((a, b), 0) + 1
    # A boundary edge has no opposite half-edge; the cap must run the other way round.
    nxt = {}
    for (a, b) in edge_count:
        if (b, a) not in edge_count:
            nxt[b] = a
    loops = []
    seen = set()
    for start in list(nxt):
        if start in seen:
            continue
        loop = [start]
        seen.add(start)
        v = nxt[start]
        while v != start:
            if v in seen or v not in nxt:
                fail("body group has a non-manifold boundary at vertex %d" % v)
            loop.append(v)
            seen.add(v)
            v = nxt[v]
        loops.append(loop)
    new_verts = []
    new_tris = []
    for loop in loops:
        c = tuple(sum(verts[v][k] for v in loop) / len(loop) for k in range(3))
        ci = num_vertices + len(new_verts)
        new_verts.append((c, loop))
        for i in range(len(loop)):
            new_tris.append((loop[i], loop[(i + 1) % len(loop)], ci))
    return new_verts, new_tris


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--makehuman", required=True, help="folder with 3dobjs/, rigs/, targets/, mesh_metadata/")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    root = args.makehuman

    obj_verts, faces = read_obj(os.path.join(root, "3dobjs", "base.obj"))
    groups = json.load(open(os.path.join(root, "mesh_metadata", "basemesh_vertex_groups.json")))
    body_range = groups["body"]
    if len(body_range) != 1 or body_range[0][0] != 0:
        fail("basemesh_vertex_groups.json: expected 'body' to be one range starting at 0")
    num_body = body_range[0][1] + 1
    for f in faces:
        if max(f) >= num_body:
            fail("base.obj: a 'body' face uses a vertex outside the body range")

    # Triangles (quad split along its 0-2 diagonal) + caps for the boundary loops.
    tris = []
    for f in faces:
        for i in range(1, len(f) - 1):
            tris.append((f[0], f[i], f[i + 1]))
    caps, cap_tris = close_boundary_loops(faces, num_body, obj_verts)
    tris.extend(cap_tris)
    num_vertices = num_body + len(caps)

    # Joint points: bone head/tail = mean of the joint cube's (or listed) vertices.
    rig = json.load(open(os.path.join(root, "rigs", "standard", "rig.game_engine.json")))
    bone_names = list(rig.keys())
    # Parents before children, so a single forward pass composes transforms.
    ordered = []
    placed = set()
    while len(ordered) < len(bone_names):
        progress = False
        for b in bone_names:
            par = rig[b]["parent"]
            if b not in placed and (par == "" or par in placed):
                ordered.append(b)
                placed.add(b)
                progress = True
        if not progress:
            fail("rig.game_engine.json: the parent links form a cycle")
    bone_names = ordered
    point_sets = []  # list of tuples of obj vertex indices
    point_index = {}

    def joint_point(spec, where):
        if spec["strategy"] == "CUBE":
            rng = groups.get(spec["cube_name"])
            if rng is None:
                fail("rig.game_engine.json: %s names unknown cube '%s'" % (where, spec["cube_name"]))
            idx = tuple(i for a, b in rng for i in range(a, b + 1))
        elif spec["strategy"] == "MEAN":
            idx = tuple(spec["vertex_indices"])
        else:
            fail("rig.game_engine.json: %s has unsupported strategy '%s'" % (where, spec["strategy"]))
        if idx not in point_index:
            point_index[idx] = num_vertices + len(point_sets)
            point_sets.append(idx)
        return point_index[idx]

    bones = []
    for b in bone_names:
        head = joint_point(rig[b]["head"], b + ".head")
        tail = joint_point(rig[b]["tail"], b + ".tail")
        parent = bone_names.index(rig[b]["parent"]) if rig[b]["parent"] else -1
        bones.append((b, parent, head, tail))
    num_points = num_vertices + len(point_sets)
    if num_points > 65535:
        fail("too many points for u16 indices")

    def mean_of(idx_list, fn):
        acc = [0.0, 0.0, 0.0]
        for i in idx_list:
            d = fn(i)
            for k in range(3):
                acc[k] += d[k]
        return tuple(a / len(idx_list) for a in acc)

    # Rest positions in obj units, then the frame change: ground cube at y=0, pelvis joint at x=z=0.
    rest = list(obj_verts[:num_body]) + [c for c, _ in caps] + [mean_of(s, lambda i: obj_verts[i]) for s in point_sets]
    ground = mean_of(tuple(rig["Root"]["head"]["vertex_indices"]), lambda i: obj_verts[i])
    pelvis = rest[bones[bone_names.index("pelvis")][2]]
    rest = [((p[0] - pelvis[0]) * DM_TO_M, (p[1] - ground[1]) * DM_TO_M, (p[2] - pelvis[2]) * DM_TO_M) for p in rest]

    # Skinning weights.
    wj = json.load(open(os.path.join(root, "rigs", "standard", "weights.game_engine.json")))["weights"]
    per_vertex = [[] for _ in range(num_body)]
    for b, lst in wj.items():
        if b not in bone_names:
            fail("weights.game_engine.json: unknown bone '%s'" % b)
        bi = bone_names.index(b)
        for v, w in lst:
            if v < num_body and w > 0:
                per_vertex[v].append((w, bi))
    skin = []
    for v in range(num_vertices):
        if v < num_body:
            infl = sorted(per_vertex[v], reverse=True)[:MAX_INFLUENCES]
        else:
            # A cap vertex takes the influences of its loop's first vertex.
            infl = sorted(per_vertex[caps[v - num_body][1][0]], reverse=True)[:MAX_INFLUENCES]
        if not infl:
            fail("weights.game_engine.json: body vertex %d has no weight" % v)
        total = sum(w for w, _ in infl)
        q = [int(round(65535 * w / total)) for w, _ in infl]
        q[0] += 65535 - sum(q)
        ids = [bi for _, bi in infl]
        while len(ids) < MAX_INFLUENCES:
            ids.append(0)
            q.append(0)
        skin.append((ids, q))

    # Targets (young adults): race x gender, universal gender-muscle-weight, height.
    tdir = os.path.join(root, "targets", "macrodetails")
    names = []
    for race in ("african", "asian", "caucasian"):
        for g in ("female", "male"):
            names.append("%s-%s-young" % (race, g))
    for g in ("female", "male"):
        for m in ("minmuscle", "averagemuscle", "maxmuscle"):
            for w in ("minweight", "averageweight", "maxweight"):
                names.append("universal-%s-young-%s-%s" % (g, m, w))
                for h in ("minheight", "maxheight"):
                    names.append("%s-young-%s-%s-%s" % (g, m, w, h))
    blocks = []
    block_of = {}
    targets = []
    for name in names:
        sub = "height" if name.endswith("height") else ""
        path = os.path.join(tdir, sub, name + ".target.gz")
        if not os.path.exists(path):
            fail("missing target %s" % path)
        d = read_target(path)
        zero = (0.0, 0.0, 0.0)
        entries = []
        for p in range(num_points):
            if p < num_body:
                delta = d.get(p, zero)
            elif p < num_vertices:
                delta = mean_of(caps[p - num_body][1], lambda i: d.get(i, zero))
            else:
                delta = mean_of(point_sets[p - num_vertices], lambda i: d.get(i, zero))
            qd = []
            for x in delta:
                qv = int(round(x * DM_TO_M / DELTA_STEP))
                if abs(qv) > 32767:
                    fail("%s: delta %.4f dm at point %d does not fit int16" % (path, x, p))
                qd.append(qv)
            if any(qd):
                entries.append((p, qd[0], qd[1], qd[2]))
        key = tuple(entries)
        if key not in block_of:
            block_of[key] = len(blocks)
            blocks.append(entries)
        targets.append((name, block_of[key]))

    out = bytearray()
    out += b"GCLBODY1"
    out += struct.pack("<6I", num_vertices, num_points, len(tris), len(bones), len(blocks), len(targets))
    for p in rest:
        out += struct.pack("<3f", *p)
    for t in tris:
        out += struct.pack("<3H", *t)
    for ids, q in skin:
        out += struct.pack("<4B4H", *(ids + q))
    for name, parent, head, tail in bones:
        nb = name.encode()
        out += struct.pack("<B", len(nb)) + nb + struct.pack("<hHH", parent, head, tail)
    for entries in blocks:
        out += struct.pack("<I", len(entries))
        for e in entries:
            out += struct.pack("<H3h", *e)
    for name, blk in targets:
        nb = name.encode()
        out += struct.pack("<B", len(nb)) + nb + struct.pack("<H", blk)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "wb") as f:
        f.write(out)
    print("wrote %s: %d bytes, %d vertices (%d caps), %d joint points, %d triangles, %d bones, %d targets in %d blocks"
          % (args.out, len(out), num_vertices, len(caps), len(point_sets), len(tris), len(bones), len(targets),
             len(blocks)))


if __name__ == "__main__":
    main()
