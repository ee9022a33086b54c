#!/usr/bin/env python3
"""An outside client's RFC 9162 checks, written from the RFC alone (section 2.1), sharing no code
with the project: reads a JSON job on stdin, prints a JSON verdict on stdout.

Job: {"leaves": [hex canonical bytes' leaf inputs?]} is not needed; it takes
  {"checkpoints": [{"treeSize", "rootHash"}, ...],
   "consistency": [{"fromSize", "toSize", "path", "fromRoot", "toRoot"}],
   "inclusion": [{"index", "treeSize", "leafHash", "path", "root"}],
   "events": ["canonical text", ...]}     # optional: every event from index 0, to recompute roots
and answers {"consistency": [bool], "inclusion": [bool], "roots": {size: hex}} where roots are
recomputed from the events' canonical bytes for every checkpoint size.
"""
import hashlib
import json
import sys


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def mth(leaves):
    """RFC 9162 2.1.1: the Merkle Tree Hash of a list of leaf hashes."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def verify_inclusion(index, size, leaf, path, root):
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, path, first_root, second_root):
    """RFC 9162 2.1.4.2."""
    if first == second:
        return len(path) == 0 and first_root == second_root
    if first == 0 or first > second or len(path) == 0:
        return False
    if first & (first - 1) == 0:  # a power of two: first_root is the first node
        path = [first_root] + list(path)
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


def main():
    job = json.load(sys.stdin)
    h = bytes.fromhex
    out = {
        "consistency": [
            verify_consistency(c["fromSize"], c["toSize"], [h(p) for p in c["path"]], h(c["fromRoot"]), h(c["toRoot"]))
            for c in job.get("consistency", [])
        ],
        "inclusion": [
            verify_inclusion(i["index"], i["treeSize"], h(i["leafHash"]), [h(p) for p in i["path"]], h(i["root"]))
            for i in job.get("inclusion", [])
        ],
        "roots": {},
    }
    events = job.get("events")
    if events is not None:
        leaves = [leaf_hash(e.encode("utf-8")) for e in events]
        for c in job.get("checkpoints", []):
            out["roots"][str(c["treeSize"])] = mth(leaves[: c["treeSize"]]).hex()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
