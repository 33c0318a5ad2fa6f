/*
 * proto/codec.c - protobuf-c encoding and strict decoding
 *
 * protobuf-c checks the wire syntax; this file checks the meaning: fixed
 * sizes of keys, ids and signatures, collection names, counts. A decoder
 * never keeps pointers into protobuf-c's unpacked message: it copies what
 * it needs and frees the message before returning.
 */
#include "codec.h"

#include <stdlib.h>
#include <string.h>

#include "kairan.pb-c.h"

int
kr_collection_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > KR_COLLECTION_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '-'))
			return 0;
	return 1;
}

static int
s_fixed(uint8_t *out, size_t want, ProtobufCBinaryData b, const char *what)
{
	if (b.len != want)
		return kr_error(KR_EPROTO, "%s is %zu bytes, expected %zu", what, b.len, want);
	memcpy(out, b.data, want);
	return 0;
}

static void
s_pack(kr_buf *out, const ProtobufCMessage *m)
{
	size_t n = protobuf_c_message_get_packed_size(m);

	kr_buf_grow(out, n);
	protobuf_c_message_pack(m, (uint8_t *)out->ptr + out->len);
	out->len += n;
	out->ptr[out->len] = '\0';
}

static int
s_check_len(size_t len, const char *what)
{
	if (len > KR_MSG_MAX)
		return kr_error(KR_EPROTO, "%s of %zu bytes exceeds the %u byte limit", what, len, KR_MSG_MAX);
	return 0;
}

static ProtobufCBinaryData
s_bin(const void *p, size_t n)
{
	ProtobufCBinaryData b = { n, (uint8_t *)p };
	return b;
}

/* A string field from the wire, copied; longer than max sets *bad. */
static char *
s_str(const char *s, size_t max, int *bad)
{
	if (!s)
		return kr_strdup("");
	if (strlen(s) > max) {
		*bad = 1;
		return NULL;
	}
	return kr_strdup(s);
}

/*
 * A display string from the wire, copied and cut to at most max bytes at a
 * character boundary, with "…" marking the cut: one long title must not
 * cost the rest of an answer.
 */
static char *
s_str_cut(const char *s, size_t max)
{
	size_t n;

	if (!s)
		return kr_strdup("");
	if ((n = strlen(s)) <= max)
		return kr_strdup(s);
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return kr_sprintf("%.*s…", (int)n, s);
}

int
kr_manifest_encode(kr_buf *out, const kr_manifest *m)
{
	Kairan__Manifest pm = KAIRAN__MANIFEST__INIT;
	Kairan__Head *heads = kr_calloc(m->nheads, sizeof(*heads));
	Kairan__Head **hp = kr_calloc(m->nheads, sizeof(*hp));

	pm.publisher = s_bin(m->publisher, KR_FPR_LEN);
	pm.seq = m->seq;
	pm.issued = m->issued;
	pm.expires = m->expires;
	pm.name = m->name ? m->name : (char *)"";
	pm.lg_code = m->lg_code ? m->lg_code : (char *)"";
	for (size_t i = 0; i < m->nheads; i++) {
		kairan__head__init(&heads[i]);
		heads[i].collection = (char *)m->heads[i].collection;
		heads[i].commit = s_bin(m->heads[i].commit, KR_OID_LEN);
		heads[i].size = m->heads[i].size;
		hp[i] = &heads[i];
	}
	pm.n_heads = m->nheads;
	pm.heads = hp;
	s_pack(out, &pm.base);
	free(heads);
	free(hp);
	return 0;
}

int
kr_manifest_decode(kr_manifest *m, const void *data, size_t len)
{
	Kairan__Manifest *pm;
	int rc = 0, bad = 0;

	memset(m, 0, sizeof(*m));
	if ((rc = s_check_len(len, "manifest")) < 0)
		return rc;
	pm = kairan__manifest__unpack(NULL, len, data);
	if (!pm)
		return kr_error(KR_EPROTO, "manifest is not a valid protobuf message (truncated or malformed)");
	if ((rc = s_fixed(m->publisher, KR_FPR_LEN, pm->publisher, "manifest publisher")) < 0)
		goto done;
	m->seq = pm->seq;
	m->issued = pm->issued;
	m->expires = pm->expires;
	m->name = s_str(pm->name, 256, &bad);
	m->lg_code = s_str(pm->lg_code, 16, &bad);
	if (bad) {
		rc = kr_error(KR_EPROTO, "manifest name or lg_code is too long");
		goto done;
	}
	if (pm->n_heads > KR_MAX_HEADS) {
		rc = kr_error(KR_EPROTO, "manifest has %zu heads, limit %d", pm->n_heads, KR_MAX_HEADS);
		goto done;
	}
	m->heads = kr_calloc(pm->n_heads, sizeof(*m->heads));
	m->nheads = pm->n_heads;
	for (size_t i = 0; i < pm->n_heads; i++) {
		const char *c = pm->heads[i]->collection ? pm->heads[i]->collection : "";
		if (!kr_collection_valid(c)) {
			rc = kr_error(KR_EPROTO, "manifest head %zu: collection name is not [a-z0-9-]{1,63}", i);
			goto done;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(m->heads[j].collection, c) == 0) {
				rc = kr_error(KR_EPROTO, "manifest names collection %s twice", c);
				goto done;
			}
		strcpy(m->heads[i].collection, c);
		if ((rc = s_fixed(m->heads[i].commit, KR_OID_LEN, pm->heads[i]->commit, "manifest head commit")) < 0)
			goto done;
		m->heads[i].size = pm->heads[i]->size;
	}
done:
	kairan__manifest__free_unpacked(pm, NULL);
	if (rc < 0)
		kr_manifest_clear(m);
	return rc;
}

void
kr_manifest_clear(kr_manifest *m)
{
	free(m->name);
	free(m->lg_code);
	free(m->heads);
	memset(m, 0, sizeof(*m));
}

int
kr_signed_encode(kr_buf *out, const kr_signed *s)
{
	Kairan__Signed ps = KAIRAN__SIGNED__INIT;

	ps.body = s_bin(s->body.ptr, s->body.len);
	ps.key = s_bin(s->key, KR_FPR_LEN);
	ps.sig = s_bin(s->sig, 64);
	s_pack(out, &ps.base);
	return 0;
}

int
kr_signed_decode(kr_signed *s, const void *data, size_t len)
{
	Kairan__Signed *ps;
	int rc;

	memset(s, 0, sizeof(*s));
	s->body = (kr_buf)KR_BUF_INIT;
	if ((rc = s_check_len(len, "signed message")) < 0)
		return rc;
	if (!(ps = kairan__signed__unpack(NULL, len, data)))
		return kr_error(KR_EPROTO, "signed message is not a valid protobuf message (truncated or malformed)");
	if ((rc = s_fixed(s->key, KR_FPR_LEN, ps->key, "signed message key")) == 0 &&
	    (rc = s_fixed(s->sig, 64, ps->sig, "signed message signature")) == 0) {
		if (ps->body.len == 0)
			rc = kr_error(KR_EPROTO, "signed message has an empty body");
		else
			kr_buf_add(&s->body, ps->body.data, ps->body.len);
	}
	kairan__signed__free_unpacked(ps, NULL);
	if (rc < 0)
		kr_signed_clear(s);
	return rc;
}

void
kr_signed_clear(kr_signed *s)
{
	kr_buf_release(&s->body);
}

int
kr_beacon_encode(kr_buf *out, const kr_beacon *b)
{
	Kairan__Beacon pb = KAIRAN__BEACON__INIT;

	pb.node = s_bin(b->node, KR_FPR_LEN);
	pb.time = b->time;
	pb.digest = s_bin(b->digest, 16);
	s_pack(out, &pb.base);
	return 0;
}

int
kr_beacon_decode(kr_beacon *b, const void *data, size_t len)
{
	Kairan__Beacon *pb;
	int rc;

	memset(b, 0, sizeof(*b));
	if ((rc = s_check_len(len, "beacon")) < 0)
		return rc;
	if (!(pb = kairan__beacon__unpack(NULL, len, data)))
		return kr_error(KR_EPROTO, "beacon is not a valid protobuf message");
	if ((rc = s_fixed(b->node, KR_FPR_LEN, pb->node, "beacon node")) == 0)
		rc = s_fixed(b->digest, 16, pb->digest, "beacon digest");
	b->time = pb->time;
	kairan__beacon__free_unpacked(pb, NULL);
	return rc;
}

int
kr_request_encode(kr_buf *out, const kr_request *r)
{
	Kairan__Request pr = KAIRAN__REQUEST__INIT;
	Kairan__Hello hello = KAIRAN__HELLO__INIT;
	Kairan__SnapshotRequest snap = KAIRAN__SNAPSHOT_REQUEST__INIT;
	Kairan__FetchRequest fetch = KAIRAN__FETCH_REQUEST__INIT;
	Kairan__SearchRequest search = KAIRAN__SEARCH_REQUEST__INIT;
	ProtobufCBinaryData *list = NULL;

	pr.id = r->id;
	switch (r->type) {
	case KR_REQ_HELLO:
		hello.version = KR_PROTO_VERSION;
		pr.body_case = KAIRAN__REQUEST__BODY_HELLO;
		pr.hello = &hello;
		break;
	case KR_REQ_SNAPSHOT:
		list = kr_calloc(r->npublishers, sizeof(*list));
		for (size_t i = 0; i < r->npublishers; i++)
			list[i] = s_bin(r->publishers[i], KR_FPR_LEN);
		snap.n_publishers = r->npublishers;
		snap.publishers = list;
		pr.body_case = KAIRAN__REQUEST__BODY_SNAPSHOT;
		pr.snapshot = &snap;
		break;
	case KR_REQ_SEARCH: {
		char **f[KR_SEARCH_FIELDS] = { &search.query, &search.kind, &search.domain, &search.ai_use,
			&search.outcome, &search.deployment, &search.publisher, &search.pref,
			&search.population_band, &search.since };
		for (int i = 0; i < KR_SEARCH_FIELDS; i++)
			*f[i] = r->search[i] ? r->search[i] : (char *)"";
		search.limit = r->limit;
		pr.body_case = KAIRAN__REQUEST__BODY_SEARCH;
		pr.search = &search;
		break;
	}
	case KR_REQ_FETCH:
		list = kr_calloc(r->nhaves, sizeof(*list));
		for (size_t i = 0; i < r->nhaves; i++)
			list[i] = s_bin(r->haves[i], KR_OID_LEN);
		fetch.publisher = s_bin(r->publisher, KR_FPR_LEN);
		fetch.collection = (char *)r->collection;
		fetch.want = s_bin(r->want, KR_OID_LEN);
		fetch.n_haves = r->nhaves;
		fetch.haves = list;
		fetch.offset = r->offset;
		fetch.length = r->length;
		pr.body_case = KAIRAN__REQUEST__BODY_FETCH;
		pr.fetch = &fetch;
		break;
	default:
		abort();
	}
	s_pack(out, &pr.base);
	free(list);
	return 0;
}

int
kr_request_decode(kr_request *r, const void *data, size_t len)
{
	Kairan__Request *pr;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	if ((rc = s_check_len(len, "request")) < 0)
		return rc;
	if (!(pr = kairan__request__unpack(NULL, len, data)))
		return kr_error(KR_EPROTO, "request is not a valid protobuf message (truncated or malformed)");
	r->id = pr->id;
	switch (pr->body_case) {
	case KAIRAN__REQUEST__BODY_HELLO:
		r->type = KR_REQ_HELLO;
		break;
	case KAIRAN__REQUEST__BODY_SNAPSHOT:
		r->type = KR_REQ_SNAPSHOT;
		if (pr->snapshot->n_publishers > KR_MAX_SNAPSHOT) {
			rc = kr_error(KR_EPROTO, "snapshot request names %zu publishers, limit %d",
			    pr->snapshot->n_publishers, KR_MAX_SNAPSHOT);
			break;
		}
		r->publishers = kr_calloc(pr->snapshot->n_publishers, KR_FPR_LEN);
		r->npublishers = pr->snapshot->n_publishers;
		for (size_t i = 0; i < r->npublishers && rc == 0; i++)
			rc = s_fixed(r->publishers[i], KR_FPR_LEN, pr->snapshot->publishers[i], "snapshot publisher");
		break;
	case KAIRAN__REQUEST__BODY_FETCH: {
		Kairan__FetchRequest *f = pr->fetch;
		r->type = KR_REQ_FETCH;
		if ((rc = s_fixed(r->publisher, KR_FPR_LEN, f->publisher, "fetch publisher")) < 0 ||
		    (rc = s_fixed(r->want, KR_OID_LEN, f->want, "fetch want")) < 0)
			break;
		if (!f->collection || !kr_collection_valid(f->collection)) {
			rc = kr_error(KR_EPROTO, "fetch collection name is not [a-z0-9-]{1,63}");
			break;
		}
		strcpy(r->collection, f->collection);
		if (f->n_haves > KR_MAX_HAVES) {
			rc = kr_error(KR_EPROTO, "fetch names %zu haves, limit %d", f->n_haves, KR_MAX_HAVES);
			break;
		}
		r->haves = kr_calloc(f->n_haves, KR_OID_LEN);
		r->nhaves = f->n_haves;
		for (size_t i = 0; i < r->nhaves && rc == 0; i++)
			rc = s_fixed(r->haves[i], KR_OID_LEN, f->haves[i], "fetch have");
		r->offset = f->offset;
		r->length = f->length;
		if (r->length == 0 || r->length > KR_CHUNK_MAX)
			rc = kr_error(KR_EPROTO, "fetch chunk length %u is not in 1..%u", r->length, KR_CHUNK_MAX);
		break;
	}
	case KAIRAN__REQUEST__BODY_SEARCH: {
		Kairan__SearchRequest *s = pr->search;
		const char *f[KR_SEARCH_FIELDS] = { s->query, s->kind, s->domain, s->ai_use, s->outcome,
			s->deployment, s->publisher, s->pref, s->population_band, s->since };
		int bad = 0;
		r->type = KR_REQ_SEARCH;
		for (int i = 0; i < KR_SEARCH_FIELDS; i++)
			r->search[i] = f[i] && *f[i] ? s_str(f[i], 1024, &bad) : NULL;
		r->limit = s->limit;
		if (bad)
			rc = kr_error(KR_EPROTO, "search request has an over-long field");
		else if (!r->search[0])
			rc = kr_error(KR_EPROTO, "search request has no query");
		else if (r->limit == 0 || r->limit > KR_MAX_HITS)
			rc = kr_error(KR_EPROTO, "search limit %u is not in 1..%d", r->limit, KR_MAX_HITS);
		break;
	}
	default:
		rc = kr_error(KR_EPROTO, "request has no known body");
	}
	kairan__request__free_unpacked(pr, NULL);
	if (rc < 0)
		kr_request_clear(r);
	return rc;
}

void
kr_request_clear(kr_request *r)
{
	free(r->publishers);
	free(r->haves);
	for (int i = 0; i < KR_SEARCH_FIELDS; i++)
		free(r->search[i]);
	memset(r, 0, sizeof(*r));
}

int
kr_reply_encode(kr_buf *out, const kr_reply *r)
{
	Kairan__Reply pr = KAIRAN__REPLY__INIT;
	Kairan__HelloReply hello = KAIRAN__HELLO_REPLY__INIT;
	Kairan__SnapshotReply snap = KAIRAN__SNAPSHOT_REPLY__INIT;
	Kairan__FetchChunk chunk = KAIRAN__FETCH_CHUNK__INIT;
	Kairan__Error err = KAIRAN__ERROR__INIT;
	Kairan__SearchReply srep = KAIRAN__SEARCH_REPLY__INIT;
	Kairan__SearchHit *hits = NULL, **hp = NULL;
	ProtobufCBinaryData *list = NULL;

	pr.id = r->id;
	switch (r->type) {
	case KR_REP_SEARCH:
		hits = kr_calloc(r->nhits, sizeof(*hits));
		hp = kr_calloc(r->nhits, sizeof(*hp));
		for (size_t i = 0; i < r->nhits; i++) {
			const kr_wire_hit *h = &r->hits[i];
			kairan__search_hit__init(&hits[i]);
#define S(x) ((x) ? (x) : (char *)"")
			hits[i].id = S(h->id);
			hits[i].title = S(h->title);
			hits[i].publisher = s_bin(h->publisher, KR_FPR_LEN);
			hits[i].publisher_name = S(h->pub_name);
			hits[i].lg_code = S(h->lg_code);
			hits[i].kind = S(h->kind);
			hits[i].version = S(h->version);
			hits[i].snippet = S(h->snippet);
			hits[i].outcome = S(h->outcome);
			hits[i].headline = S(h->headline);
			hits[i].updated = S(h->updated);
#undef S
			hp[i] = &hits[i];
		}
		srep.n_hits = r->nhits;
		srep.hits = hp;
		srep.total = r->total;
		pr.body_case = KAIRAN__REPLY__BODY_SEARCH;
		pr.search = &srep;
		break;
	case KR_REP_HELLO:
		hello.version = r->version;
		hello.node = s_bin(r->node, KR_FPR_LEN);
		hello.name = r->name ? r->name : (char *)"";
		hello.lg_code = r->lg_code ? r->lg_code : (char *)"";
		hello.announce = r->announce ? r->announce : (char *)"";
		pr.body_case = KAIRAN__REPLY__BODY_HELLO;
		pr.hello = &hello;
		break;
	case KR_REP_SNAPSHOT:
		list = kr_calloc(r->nmanifests, sizeof(*list));
		for (size_t i = 0; i < r->nmanifests; i++)
			list[i] = s_bin(r->manifests[i].ptr, r->manifests[i].len);
		snap.n_manifests = r->nmanifests;
		snap.manifests = list;
		snap.digest = s_bin(r->digest, 16);
		pr.body_case = KAIRAN__REPLY__BODY_SNAPSHOT;
		pr.snapshot = &snap;
		break;
	case KR_REP_CHUNK:
		chunk.offset = r->offset;
		chunk.total = r->total;
		chunk.data = s_bin(r->data, r->data_len);
		pr.body_case = KAIRAN__REPLY__BODY_CHUNK;
		pr.chunk = &chunk;
		break;
	case KR_REP_ERROR:
		err.code = r->code;
		err.text = r->text ? r->text : (char *)"";
		pr.body_case = KAIRAN__REPLY__BODY_ERROR;
		pr.error = &err;
		break;
	default:
		abort();
	}
	s_pack(out, &pr.base);
	free(list);
	free(hits);
	free(hp);
	return 0;
}

int
kr_reply_decode(kr_reply *r, const void *data, size_t len)
{
	Kairan__Reply *pr;
	int rc = 0, bad = 0;

	memset(r, 0, sizeof(*r));
	if ((rc = s_check_len(len, "reply")) < 0)
		return rc;
	if (!(pr = kairan__reply__unpack(NULL, len, data)))
		return kr_error(KR_EPROTO, "reply is not a valid protobuf message (truncated or malformed)");
	r->id = pr->id;
	switch (pr->body_case) {
	case KAIRAN__REPLY__BODY_HELLO:
		r->type = KR_REP_HELLO;
		r->version = pr->hello->version;
		rc = s_fixed(r->node, KR_FPR_LEN, pr->hello->node, "hello node");
		r->name = s_str(pr->hello->name, 256, &bad);
		r->lg_code = s_str(pr->hello->lg_code, 16, &bad);
		r->announce = s_str(pr->hello->announce, 256, &bad);
		if (bad && rc == 0)
			rc = kr_error(KR_EPROTO, "hello reply has an over-long string");
		break;
	case KAIRAN__REPLY__BODY_SNAPSHOT:
		r->type = KR_REP_SNAPSHOT;
		if (pr->snapshot->n_manifests > KR_MAX_SNAPSHOT) {
			rc = kr_error(KR_EPROTO, "snapshot reply holds %zu manifests, limit %d",
			    pr->snapshot->n_manifests, KR_MAX_SNAPSHOT);
			break;
		}
		if ((rc = s_fixed(r->digest, 16, pr->snapshot->digest, "snapshot digest")) < 0)
			break;
		r->manifests = kr_calloc(pr->snapshot->n_manifests, sizeof(kr_buf));
		r->nmanifests = pr->snapshot->n_manifests;
		for (size_t i = 0; i < r->nmanifests; i++) {
			r->manifests[i] = (kr_buf)KR_BUF_INIT;
			kr_buf_add(&r->manifests[i], pr->snapshot->manifests[i].data, pr->snapshot->manifests[i].len);
		}
		break;
	case KAIRAN__REPLY__BODY_CHUNK:
		r->type = KR_REP_CHUNK;
		r->offset = pr->chunk->offset;
		r->total = pr->chunk->total;
		if (pr->chunk->data.len > KR_CHUNK_MAX) {
			rc = kr_error(KR_EPROTO, "chunk of %zu bytes exceeds %u", pr->chunk->data.len, KR_CHUNK_MAX);
			break;
		}
		r->data_owned = kr_malloc(pr->chunk->data.len);
		if (pr->chunk->data.len)
			memcpy(r->data_owned, pr->chunk->data.data, pr->chunk->data.len);
		r->data = r->data_owned;
		r->data_len = pr->chunk->data.len;
		break;
	case KAIRAN__REPLY__BODY_SEARCH: {
		Kairan__SearchReply *s = pr->search;
		r->type = KR_REP_SEARCH;
		if (s->n_hits > KR_MAX_HITS) {
			rc = kr_error(KR_EPROTO, "search reply holds %zu hits, limit %d", s->n_hits, KR_MAX_HITS);
			break;
		}
		r->total = s->total;
		r->hits = kr_calloc(s->n_hits, sizeof(kr_wire_hit));
		for (size_t i = 0; i < s->n_hits; i++) {
			/* A hit whose identity (id, version, publisher) is malformed is left out and
			 * counted; display fields that are too long are cut. */
			Kairan__SearchHit *x = s->hits[i];
			kr_wire_hit *h = &r->hits[r->nhits];
			int hbad = 0;
			if (x->publisher.len != KR_FPR_LEN || !x->id || !*x->id) {
				r->hits_dropped++;
				continue;
			}
			h->id = s_str(x->id, 256, &hbad);
			h->version = s_str(x->version, 64, &hbad);
			if (hbad) {
				free(h->id);
				free(h->version);
				memset(h, 0, sizeof(*h));
				r->hits_dropped++;
				continue;
			}
			memcpy(h->publisher, x->publisher.data, KR_FPR_LEN);
			h->title = s_str_cut(x->title, 1024);
			h->pub_name = s_str_cut(x->publisher_name, 256);
			h->lg_code = s_str_cut(x->lg_code, 16);
			h->kind = s_str_cut(x->kind, 32);
			h->snippet = s_str_cut(x->snippet, 4096);
			h->outcome = s_str_cut(x->outcome, 64);
			h->headline = s_str_cut(x->headline, 256);
			h->updated = s_str_cut(x->updated, 32);
			r->nhits++;
		}
		break;
	}
	case KAIRAN__REPLY__BODY_ERROR:
		r->type = KR_REP_ERROR;
		r->code = pr->error->code;
		r->text = s_str_cut(pr->error->text, 1024);
		break;
	default:
		rc = kr_error(KR_EPROTO, "reply has no known body");
	}
	kairan__reply__free_unpacked(pr, NULL);
	if (rc < 0)
		kr_reply_clear(r);
	return rc;
}

void
kr_reply_clear(kr_reply *r)
{
	free(r->name);
	free(r->lg_code);
	free(r->announce);
	for (size_t i = 0; i < r->nmanifests; i++)
		kr_buf_release(&r->manifests[i]);
	free(r->manifests);
	free(r->data_owned);
	free(r->text);
	for (size_t i = 0; i < r->nhits; i++) {
		kr_wire_hit *h = &r->hits[i];
		free(h->id); free(h->title); free(h->pub_name); free(h->lg_code); free(h->kind);
		free(h->version); free(h->snippet); free(h->outcome); free(h->headline); free(h->updated);
	}
	free(r->hits);
	memset(r, 0, sizeof(*r));
}
