#!/usr/bin/env python3
"""tests/tools/dify_retrieval.py - requests shaped exactly as Dify sends them

Dify's ExternalDatasetService (api/services/external_knowledge_service.py):
  registering the API:  POST {endpoint}/retrieval with only
                        Authorization: Bearer KEY (no body); Dify refuses the
                        endpoint on 403, 404 or 502
  retrieving:           POST {endpoint}/retrieval, headers
                        Content-Type: application/json, Authorization: Bearer KEY,
                        data=json.dumps({"retrieval_setting": {"top_k", "score_threshold"},
                        "query", "knowledge_id"[, "metadata_condition"]})
                        and reads response.json()["records"] on 200.

usage: dify_retrieval.py ENDPOINT KEY register
       dify_retrieval.py ENDPOINT KEY KNOWLEDGE_ID QUERY TOP_K THRESHOLD [METADATA_CONDITION_JSON]
       dify_retrieval.py ENDPOINT - raw AUTHORIZATION_HEADER BODY
prints {"status": N, "body": {...}}
"""
import json
import sys
import urllib.error
import urllib.request


def post(url, headers, data):
    req = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def main():
    endpoint, key = sys.argv[1], sys.argv[2]
    url = f"{endpoint}/retrieval"
    if sys.argv[3] == "register":
        status, body = post(url, {"Authorization": f"Bearer {key}"}, None)
    elif sys.argv[3] == "raw":
        headers = {"Content-Type": "application/json"}
        if sys.argv[4]:
            headers["Authorization"] = sys.argv[4]
        status, body = post(url, headers, sys.argv[5].encode("utf-8"))
    else:
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        request_params = {
            "retrieval_setting": {"top_k": int(sys.argv[5]), "score_threshold": float(sys.argv[6])},
            "query": sys.argv[4],
            "knowledge_id": sys.argv[3],
        }
        if len(sys.argv) > 7:
            request_params["metadata_condition"] = json.loads(sys.argv[7])
        status, body = post(url, headers, json.dumps(request_params).encode("utf-8"))
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = {"raw": body.decode("utf-8", "replace")}
    print(json.dumps({"status": status, "body": parsed}, ensure_ascii=False))


main()
