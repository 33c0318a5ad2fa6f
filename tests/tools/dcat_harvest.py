#!/usr/bin/env python3
"""tests/tools/dcat_harvest.py - reads /catalog.jsonld as ckanext-dcat's RDF harvester does

ckanext-dcat (harvesters/base.py, processors.py) first sends HEAD to the
catalog URL (falling back to GET on 405/400), takes the format from the
Content-Type, then follows hydra:next (or hydra:nextPage) of the
hydra:PagedCollection / PartialCollectionView node until there is none.
This script does the same without rdflib: it reads the JSON-LD @graph with
the catalog's own prefixes, checks every dcat:Dataset has distributions
with a download URL, a byte size and a SHA-256, downloads each distribution
and compares size and digest, and fetches the signed manifest each dataset
links with rdfs:seeAlso.

usage: dcat_harvest.py CATALOG_URL
prints {"pages": N, "datasets": N, "distributions": N, "checked": N, "manifests": [..]}
"""
import hashlib
import json
import sys
import urllib.request


def fetch(url, method="GET"):
    req = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, r.headers.get("Content-Type", ""), r.read()


def main():
    url = sys.argv[1]
    status, ctype, _ = fetch(url, "HEAD")
    if status != 200 or ctype.split(";")[0] != "application/ld+json":
        sys.exit("HEAD %s: %s %s" % (url, status, ctype))
    pages = datasets = dists = checked = 0
    manifests = set()
    seen = set()
    while url:
        if url in seen or pages > 100:
            sys.exit("paging loops at %s" % url)
        seen.add(url)
        _, ctype, body = fetch(url)
        doc = json.loads(body)
        pages += 1
        graph = doc["@graph"]
        nxt = None
        for node in graph:
            t = node.get("@type")
            if t in ("hydra:PagedCollection", "hydra:PartialCollectionView"):
                nxt = node.get("hydra:next") or node.get("hydra:nextPage")
            if t == "dcat:Dataset":
                datasets += 1
                manifests.add(node["rdfs:seeAlso"]["@id"])
                if not node.get("dcat:distribution"):
                    sys.exit("dataset %s has no distribution" % node["@id"])
            if t == "dcat:Distribution":
                dists += 1
                size = int(node["dcat:byteSize"]["@value"])
                digest = node["spdx:checksum"]["spdx:checksumValue"]["@value"]
                if node["spdx:checksum"]["spdx:algorithm"]["@id"] != "spdx:checksumAlgorithm_sha256":
                    sys.exit("not sha256: %r" % node["spdx:checksum"])
                _, _, data = fetch(node["dcat:downloadURL"]["@id"])
                if len(data) != size or hashlib.sha256(data).hexdigest() != digest:
                    sys.exit("%s: %d bytes, sha256 %s; catalog says %d, %s" % (
                        node["@id"], len(data), hashlib.sha256(data).hexdigest(), size, digest))
                checked += 1
        url = nxt
    for m in manifests:
        _, ctype, data = fetch(m)
        if ctype != "application/octet-stream" or len(data) < 64:
            sys.exit("manifest %s: %s, %d bytes" % (m, ctype, len(data)))
    print(json.dumps({"pages": pages, "datasets": datasets, "distributions": dists,
                      "checked": checked, "manifests": sorted(manifests)}))


main()
