#!/usr/bin/env python3
"""tests/tools/ckan_harvest.py - the requests ckanext-harvest's CKAN harvester sends

Mirrors CKANHarvester.gather_stage/_search_for_datasets (ckanext-harvest,
ckanext/harvest/harvesters/ckanharvester.py): GET /api/3/action/package_search
with rows=100, start=0, sort="id asc" and, for an incremental run,
fq="metadata_modified:[<last gather - 1 h>Z TO *]", urlencoded as Python's
urlencode does ("+" for spaces); pages until a page comes back empty, refuses a
page identical to the previous one ("The paging doesn't seem to work"), drops
ids seen on earlier pages. Then fetches each package with package_show by id
and checks what import_stage reads.

usage: ckan_harvest.py BASE_URL [--since ISO_DATETIME]
prints one JSON object: {"requests": N, "ids": [...], "names": [...]}
exit 1 with a message when the remote does not behave like CKAN.
"""
import datetime
import json
import sys
import urllib.parse
import urllib.request


def get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read().decode("utf-8")


def search(base, fq_terms):
    url0 = base.rstrip("/") + "/api/3/action/package_search"
    params = {"rows": "100", "start": "0"}
    params["sort"] = "id asc"
    if fq_terms:
        params["fq"] = " ".join(fq_terms)
    pkgs, ids, previous, requests = [], set(), None, 0
    while True:
        url = url0 + "?" + urllib.parse.urlencode(params)
        content = get(url)
        requests += 1
        if previous and content == previous:
            sys.exit("The paging doesn't seem to work. URL: %s" % url)
        previous = content
        d = json.loads(content)
        if d.get("success") is not True or "help" not in d:
            sys.exit("not CKAN's envelope: %r" % d)
        page = d.get("result", {}).get("results", [])
        page = [p for p in page if p["id"] not in ids]
        ids |= set(p["id"] for p in page)
        pkgs.extend(page)
        if len(page) == 0:
            break
        params["start"] = str(int(params["start"]) + int(params["rows"]))
        if requests > 1000:
            sys.exit("paging never ended")
    return pkgs, requests


def main():
    base = sys.argv[1]
    fq = []
    if len(sys.argv) > 3 and sys.argv[2] == "--since":
        last = datetime.datetime.fromisoformat(sys.argv[3])
        since = (last - datetime.timedelta(hours=1)).isoformat()
        fq.append("metadata_modified:[{since}Z TO *]".format(since=since))
    pkgs, requests = search(base, fq)
    for p in pkgs:
        # what import_stage and package_create rely on
        for key in ("id", "name", "title", "resources", "extras", "organization", "metadata_modified"):
            if key not in p:
                sys.exit("package %s lacks %s" % (p.get("id"), key))
        for e in p["extras"]:
            if not isinstance(e.get("key"), str) or not isinstance(e.get("value"), str):
                sys.exit("extras must be key/value strings: %r" % e)
        shown = json.loads(get(base.rstrip("/") + "/api/3/action/package_show?id=" + urllib.parse.quote(p["id"])))
        if not shown["success"] or shown["result"]["id"] != p["id"]:
            sys.exit("package_show %s does not give the package back" % p["id"])
    print(json.dumps({"requests": requests, "ids": [p["id"] for p in pkgs],
                      "names": sorted(p["name"] for p in pkgs)}))


main()
