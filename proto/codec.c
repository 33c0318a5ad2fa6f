/*
 * proto/codec.c - protobuf-c encoding and strict decoding
 *
 * protobuf-c checks the wire syntax; this file checks the meaning: fixed
 * sizes of keys, ids and signatures, collection names, counts. A decoder
 * never keeps pointers into protobuf-c's unpacked message: it copies what
 * it needs and frees the message before returning.
 */
#include "codec.h"

#include <assert.h>
#include <stdio.h>
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

uint64_t
kr_signed_manifest_seq(const void *data, size_t len)
{
	kr_signed s;
	kr_manifest m;
	uint64_t seq = 0;

	memset(&m, 0, sizeof(m));
	if (kr_signed_decode(&s, data, len) == 0 && kr_manifest_decode(&m, s.body.ptr, s.body.len) == 0)
		seq = m.seq;
	kr_manifest_clear(&m);
	kr_signed_clear(&s);
	kr_error_clear();
	return seq;
}

void
kr_signed_clear(kr_signed *s)
{
	kr_buf_release(&s->body);
}

int
kr_inline_encode(kr_buf *out, const kr_inline *in)
{
	Kairan__InlinePacks pb = KAIRAN__INLINE_PACKS__INIT;
	Kairan__InlinePack *v = kr_calloc(in->n ? in->n : 1, sizeof(*v));
	Kairan__InlinePack **pv = kr_calloc(in->n ? in->n : 1, sizeof(*pv));

	for (size_t i = 0; i < in->n; i++) {
		kairan__inline_pack__init(&v[i]);
		v[i].collection = (char *)in->v[i].collection;
		v[i].parent = s_bin(in->v[i].base, in->v[i].has_base ? KR_OID_LEN : 0);
		v[i].want = s_bin(in->v[i].want, KR_OID_LEN);
		v[i].pack = s_bin(in->v[i].pack.ptr, in->v[i].pack.len);
		pv[i] = &v[i];
	}
	pb.n_packs = in->n;
	pb.packs = pv;
	s_pack(out, &pb.base);
	free(pv);
	free(v);
	return 0;
}

int
kr_inline_decode(kr_inline *in, const void *data, size_t len)
{
	Kairan__InlinePacks *pb;
	size_t total = 0;
	int rc = 0;

	memset(in, 0, sizeof(*in));
	/* the packs, their names and ids, and protobuf's framing of each: more is not what a node sends */
	if (len > KR_INLINE_FRAME_MAX)
		return kr_error(KR_EPROTO, "inline packs of more than %u bytes", KR_INLINE_FRAME_MAX);
	if (!(pb = kairan__inline_packs__unpack(NULL, len, data)))
		return kr_error(KR_EPROTO, "inline packs are not a valid protobuf message (truncated or malformed)");
	if (pb->n_packs > KR_INLINE_PACKS) {
		rc = kr_error(KR_EPROTO, "%zu inline packs, more than %d", pb->n_packs, KR_INLINE_PACKS);
		kairan__inline_packs__free_unpacked(pb, NULL);
		return rc;
	}
	in->v = kr_calloc(pb->n_packs ? pb->n_packs : 1, sizeof(*in->v));
	for (size_t i = 0; rc == 0 && i < pb->n_packs; i++) {
		const Kairan__InlinePack *p = pb->packs[i];
		kr_inline_pack *o = &in->v[in->n++];
		o->pack = (kr_buf)KR_BUF_INIT;
		total += p->pack.len;
		if (!kr_collection_valid(p->collection))
			rc = kr_error(KR_EPROTO, "inline pack %zu: bad collection name", i + 1);
		else if (total > KR_INLINE_MAX)
			rc = kr_error(KR_EPROTO, "inline packs of more than %u bytes", KR_INLINE_MAX);
		else if (p->parent.len != 0 && p->parent.len != KR_OID_LEN)
			rc = kr_error(KR_EPROTO, "inline pack %zu: parent is %zu bytes", i + 1, p->parent.len);
		else if ((rc = s_fixed(o->want, KR_OID_LEN, p->want, "inline pack want")) == 0) {
			snprintf(o->collection, sizeof(o->collection), "%s", p->collection);
			if ((o->has_base = p->parent.len != 0))
				memcpy(o->base, p->parent.data, KR_OID_LEN);
			kr_buf_add(&o->pack, p->pack.data, p->pack.len);
		}
	}
	kairan__inline_packs__free_unpacked(pb, NULL);
	if (rc < 0)
		kr_inline_clear(in);
	return rc;
}

void
kr_inline_clear(kr_inline *in)
{
	for (size_t i = 0; i < in->n; i++)
		kr_buf_release(&in->v[i].pack);
	free(in->v);
	in->v = NULL;
	in->n = 0;
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
	Kairan__MembershipRequest mreq = KAIRAN__MEMBERSHIP_REQUEST__INIT;
	ProtobufCBinaryData *list = NULL;

	pr.id = r->id;
	switch (r->type) {
	case KR_REQ_MEMBERSHIP:
		mreq.federation = s_bin(r->fed, 32);
		mreq.from_version = r->from_version;
		pr.body_case = KAIRAN__REQUEST__BODY_MEMBERSHIP;
		pr.membership = &mreq;
		break;
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
	case KAIRAN__REQUEST__BODY_MEMBERSHIP:
		r->type = KR_REQ_MEMBERSHIP;
		r->from_version = pr->membership->from_version;
		rc = s_fixed(r->fed, 32, pr->membership->federation, "membership request federation");
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
		/* proto3 cannot tell 0 from absent: 0 means the default (docs/protocol.md) */
		r->length = f->length ? f->length : KR_CHUNK_DEFAULT;
		if (r->length > KR_CHUNK_MAX)
			rc = kr_error(KR_EPROTO, "fetch chunk length %u is not in 1..%u (0: %u)", r->length, KR_CHUNK_MAX,
			    KR_CHUNK_DEFAULT);
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
		r->limit = s->limit ? s->limit : KR_SEARCH_DEFAULT_LIMIT; /* 0: absent, the default */
		if (bad)
			rc = kr_error(KR_EPROTO, "search request has an over-long field");
		else if (!r->search[0])
			rc = kr_error(KR_EPROTO, "search request has no query");
		else if (r->limit > KR_MAX_HITS)
			rc = kr_error(KR_EPROTO, "search limit %u is not in 1..%d (0: %d)", r->limit, KR_MAX_HITS,
			    KR_SEARCH_DEFAULT_LIMIT);
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
	Kairan__MembershipReply mrep = KAIRAN__MEMBERSHIP_REPLY__INIT;
	ProtobufCBinaryData *list = NULL;

	pr.id = r->id;
	switch (r->type) {
	case KR_REP_MEMBERSHIP:
		assert(r->nversions <= KR_FED_MAX_REPLY_VERSIONS);
		list = kr_calloc(r->nversions, sizeof(*list));
		for (size_t i = 0; i < r->nversions; i++)
			list[i] = s_bin(r->versions[i].ptr, r->versions[i].len);
		mrep.n_versions = r->nversions;
		mrep.versions = list;
		mrep.newest = r->newest;
		pr.body_case = KAIRAN__REPLY__BODY_MEMBERSHIP;
		pr.membership = &mrep;
		break;
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
	case KAIRAN__REPLY__BODY_MEMBERSHIP: {
		Kairan__MembershipReply *m = pr->membership;
		r->type = KR_REP_MEMBERSHIP;
		r->newest = m->newest;
		if (m->n_versions > KR_FED_MAX_REPLY_VERSIONS) {
			rc = kr_error(KR_EPROTO, "membership reply holds %zu versions, limit %d", m->n_versions,
			    KR_FED_MAX_REPLY_VERSIONS);
			break;
		}
		r->versions = kr_calloc(m->n_versions ? m->n_versions : 1, sizeof(kr_buf));
		for (size_t i = 0; i < m->n_versions && rc == 0; i++) {
			if (m->versions[i].len == 0 || m->versions[i].len > KR_FED_DOC_MAX + 64 * 1024) {
				rc = kr_error(KR_EPROTO, "membership reply version %zu is %zu bytes (empty or over 1 MB)",
				    i + 1, m->versions[i].len);
				break;
			}
			r->versions[i] = (kr_buf)KR_BUF_INIT;
			kr_buf_add(&r->versions[i], m->versions[i].data, m->versions[i].len);
			r->nversions++;
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
	for (size_t i = 0; i < r->nversions; i++)
		kr_buf_release(&r->versions[i]);
	free(r->versions);
	memset(r, 0, sizeof(*r));
}

/* ---- federation ------------------------------------------------------ */

static const char *const s_roles[] = { "board", "hub", "member" };

unsigned
kr_role_parse(const char *name)
{
	for (unsigned i = 0; i < 3; i++)
		if (strcmp(name, s_roles[i]) == 0)
			return 1u << i;
	return 0;
}

const char *
kr_revoke_reason_name(int reason)
{
	return reason == KR_REVOKE_COMPROMISED ? "compromised" : reason == KR_REVOKE_RETIRED ? "retired" : "?";
}

/* 1 if s is one line of valid UTF-8 with nothing kr_safe would change (names shown to board members). */
static int
s_plain(const char *s)
{
	char *copy = kr_strdup(s);
	size_t len = strlen(s);
	int same = kr_safe_inplace(copy, len, KR_SAFE_LINE) == len && memcmp(copy, s, len) == 0 &&
	    !strpbrk(s, "\t\r\n");

	free(copy);
	return same;
}

static int
s_lgcode_syntax(const char *s)
{
	if (strlen(s) != 6)
		return 0;
	for (int i = 0; i < 6; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int
kr_membership_encode(kr_buf *out, const kr_membership *m)
{
	Kairan__Membership pm = KAIRAN__MEMBERSHIP__INIT;
	Kairan__BoardSeat *seats = kr_calloc(m->nboard, sizeof(*seats));
	Kairan__BoardSeat **sp = kr_calloc(m->nboard, sizeof(*sp));
	Kairan__Member *mems = kr_calloc(m->nmembers, sizeof(*mems));
	Kairan__Member **mp = kr_calloc(m->nmembers, sizeof(*mp));
	Kairan__Revocation *revs = kr_calloc(m->nrevoked, sizeof(*revs));
	Kairan__Revocation **rp = kr_calloc(m->nrevoked, sizeof(*rp));
	char *(*roles)[3] = kr_calloc(m->nmembers, sizeof(*roles));

	if (m->has_federation)
		pm.federation = s_bin(m->federation, 32);
	pm.name = m->name ? m->name : (char *)"";
	pm.version = m->version;
	pm.issued = m->issued;
	pm.expires = m->expires;
	pm.threshold = m->threshold;
	for (size_t i = 0; i < m->nboard; i++) {
		kairan__board_seat__init(&seats[i]);
		seats[i].key = s_bin(m->board[i].key, KR_FPR_LEN);
		seats[i].name = m->board[i].name ? m->board[i].name : (char *)"";
		seats[i].lg_code = m->board[i].lg_code ? m->board[i].lg_code : (char *)"";
		sp[i] = &seats[i];
	}
	for (size_t i = 0; i < m->nmembers; i++) {
		const kr_fed_member *x = &m->members[i];
		size_t nr = 0;
		kairan__member__init(&mems[i]);
		mems[i].lg_code = x->lg_code ? x->lg_code : (char *)"";
		mems[i].name = x->name ? x->name : (char *)"";
		for (unsigned b = 0; b < 3; b++)
			if (x->roles & (1u << b))
				roles[i][nr++] = (char *)s_roles[b];
		mems[i].n_roles = nr;
		mems[i].roles = roles[i];
		mems[i].key = s_bin(x->key, KR_FPR_LEN);
		if (x->has_curve)
			mems[i].curve_key = s_bin(x->curve, 32);
		mems[i].n_endpoints = x->nendpoints;
		mems[i].endpoints = x->endpoints;
		mems[i].valid_until = x->valid_until;
		mp[i] = &mems[i];
	}
	for (size_t i = 0; i < m->nrevoked; i++) {
		kairan__revocation__init(&revs[i]);
		revs[i].key = s_bin(m->revoked[i].key, KR_FPR_LEN);
		revs[i].reason = (char *)kr_revoke_reason_name(m->revoked[i].reason);
		revs[i].since = m->revoked[i].since;
		if (m->revoked[i].has_replacement)
			revs[i].replaced_by = s_bin(m->revoked[i].replaced_by, KR_FPR_LEN);
		rp[i] = &revs[i];
	}
	pm.n_board = m->nboard;
	pm.board = sp;
	pm.n_members = m->nmembers;
	pm.members = mp;
	pm.n_revoked = m->nrevoked;
	pm.revoked = rp;
	s_pack(out, &pm.base);
	free(seats);
	free(sp);
	free(mems);
	free(mp);
	free(revs);
	free(rp);
	free(roles);
	return 0;
}

static int
s_key_cmp(const void *a, const void *b)
{
	return memcmp(*(const uint8_t *const *)a, *(const uint8_t *const *)b, KR_FPR_LEN);
}

/* 0 if no two of n keys are equal; sorting pointers keeps this n log n for 4,096 members. */
static int
s_keys_distinct(const uint8_t **keys, size_t n)
{
	qsort(keys, n, sizeof(*keys), s_key_cmp);
	for (size_t i = 1; i < n; i++)
		if (memcmp(keys[i - 1], keys[i], KR_FPR_LEN) == 0)
			return -1;
	return 0;
}

static int
s_str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
s_membership_members(kr_membership *m, Kairan__Membership *pm)
{
	const uint8_t **keys;
	char **codes;
	int rc = 0;

	m->members = kr_calloc(pm->n_members, sizeof(*m->members));
	m->nmembers = pm->n_members;
	for (size_t i = 0; i < pm->n_members; i++) {
		Kairan__Member *x = pm->members[i];
		kr_fed_member *y = &m->members[i];
		int bad = 0;
		y->lg_code = s_str(x->lg_code, 16, &bad);
		y->name = s_str(x->name, KR_FED_NAME_MAX, &bad);
		if (bad || !s_lgcode_syntax(y->lg_code) || !s_plain(y->name))
			return kr_error(KR_EPROTO, "member %zu: lg_code must be six digits and the name at most %d bytes",
			    i + 1, KR_FED_NAME_MAX);
		if ((rc = s_fixed(y->key, KR_FPR_LEN, x->key, "member key")) < 0)
			return kr_error_prefix(rc, "member %zu (%s)", i + 1, y->lg_code);
		if (x->curve_key.len) {
			if ((rc = s_fixed(y->curve, 32, x->curve_key, "member transport key")) < 0)
				return kr_error_prefix(rc, "member %zu (%s)", i + 1, y->lg_code);
			y->has_curve = 1;
		}
		if (x->n_roles == 0 || x->n_roles > 3)
			return kr_error(KR_EPROTO, "member %zu (%s): %zu roles (one to three of board, hub, member)",
			    i + 1, y->lg_code, x->n_roles);
		for (size_t j = 0; j < x->n_roles; j++) {
			unsigned r = kr_role_parse(x->roles[j] ? x->roles[j] : "");
			if (!r || (y->roles & r))
				return kr_error(KR_EPROTO, "member %zu (%s): role '%.32s' is unknown or repeated "
				    "(board, hub, member)", i + 1, y->lg_code, x->roles[j] ? x->roles[j] : "");
			y->roles |= r;
		}
		if (x->n_endpoints > KR_FED_MAX_ENDPOINTS)
			return kr_error(KR_EPROTO, "member %zu (%s): %zu endpoints, limit %d", i + 1, y->lg_code,
			    x->n_endpoints, KR_FED_MAX_ENDPOINTS);
		y->endpoints = kr_calloc(x->n_endpoints, sizeof(char *));
		y->nendpoints = x->n_endpoints;
		for (size_t j = 0; j < x->n_endpoints; j++)
			if (!(y->endpoints[j] = s_str(x->endpoints[j], KR_ENDPOINT_MAX, &bad)) || !*y->endpoints[j] ||
			    !s_plain(y->endpoints[j]))
				return kr_error(KR_EPROTO, "member %zu (%s): endpoint %zu is empty or over %d bytes",
				    i + 1, y->lg_code, j + 1, KR_ENDPOINT_MAX);
		y->valid_until = x->valid_until;
	}
	keys = kr_calloc(m->nmembers, sizeof(*keys));
	codes = kr_calloc(m->nmembers, sizeof(*codes));
	for (size_t i = 0; i < m->nmembers; i++) {
		keys[i] = m->members[i].key;
		codes[i] = m->members[i].lg_code;
	}
	if (s_keys_distinct(keys, m->nmembers) < 0)
		rc = kr_error(KR_EPROTO, "membership lists one member key twice");
	qsort(codes, m->nmembers, sizeof(*codes), s_str_cmp);
	for (size_t i = 1; i < m->nmembers && rc == 0; i++)
		if (strcmp(codes[i - 1], codes[i]) == 0)
			rc = kr_error(KR_EPROTO, "membership gives lg_code %s two keys (one key per municipality)",
			    codes[i]);
	free(keys);
	free(codes);
	return rc;
}

int
kr_membership_decode(kr_membership *m, const void *data, size_t len)
{
	Kairan__Membership *pm;
	const uint8_t **keys = NULL;
	int rc = 0, bad = 0;

	memset(m, 0, sizeof(*m));
	if (len > KR_FED_DOC_MAX)
		return kr_error(KR_EPROTO, "membership document of %zu bytes exceeds the %u byte limit", len,
		    KR_FED_DOC_MAX);
	if (!(pm = kairan__membership__unpack(NULL, len, data)))
		return kr_error(KR_EPROTO, "membership document is not a valid protobuf message "
		    "(truncated or malformed)");
	if (pm->federation.len) {
		if ((rc = s_fixed(m->federation, 32, pm->federation, "membership federation id")) < 0)
			goto done;
		m->has_federation = 1;
	}
	m->name = s_str(pm->name, KR_FED_NAME_MAX, &bad);
	if (bad || !*m->name || !s_plain(m->name)) {
		rc = kr_error(KR_EPROTO, "membership federation name is empty or over %d bytes", KR_FED_NAME_MAX);
		goto done;
	}
	m->version = pm->version;
	m->issued = pm->issued;
	m->expires = pm->expires;
	m->threshold = pm->threshold;
	if (pm->n_board == 0 || pm->n_board > KR_FED_MAX_BOARD || pm->n_members > KR_FED_MAX_MEMBERS ||
	    pm->n_revoked > KR_FED_MAX_REVOKED) {
		rc = kr_error(KR_EPROTO, "membership has %zu board seats (1 to %d), %zu members (at most %d) "
		    "and %zu revocations (at most %d)", pm->n_board, KR_FED_MAX_BOARD, pm->n_members,
		    KR_FED_MAX_MEMBERS, pm->n_revoked, KR_FED_MAX_REVOKED);
		goto done;
	}
	m->board = kr_calloc(pm->n_board, sizeof(*m->board));
	m->nboard = pm->n_board;
	for (size_t i = 0; i < pm->n_board; i++) {
		kr_fed_seat *y = &m->board[i];
		if ((rc = s_fixed(y->key, KR_FPR_LEN, pm->board[i]->key, "board key")) < 0) {
			kr_error_prefix(rc, "board seat %zu", i + 1);
			goto done;
		}
		y->name = s_str(pm->board[i]->name, KR_FED_NAME_MAX, &bad);
		y->lg_code = s_str(pm->board[i]->lg_code, 16, &bad);
		if (bad || !s_lgcode_syntax(y->lg_code) || !s_plain(y->name)) {
			rc = kr_error(KR_EPROTO, "board seat %zu: lg_code must be six digits and the name at most %d bytes",
			    i + 1, KR_FED_NAME_MAX);
			goto done;
		}
	}
	keys = kr_calloc(m->nboard, sizeof(*keys));
	for (size_t i = 0; i < m->nboard; i++)
		keys[i] = m->board[i].key;
	if (s_keys_distinct(keys, m->nboard) < 0) {
		rc = kr_error(KR_EPROTO, "membership lists one board key twice");
		goto done;
	}
	if ((rc = s_membership_members(m, pm)) < 0)
		goto done;
	m->revoked = kr_calloc(pm->n_revoked, sizeof(*m->revoked));
	m->nrevoked = pm->n_revoked;
	for (size_t i = 0; i < pm->n_revoked; i++) {
		kr_fed_revoked *y = &m->revoked[i];
		const char *why = pm->revoked[i]->reason ? pm->revoked[i]->reason : "";
		if ((rc = s_fixed(y->key, KR_FPR_LEN, pm->revoked[i]->key, "revoked key")) < 0) {
			kr_error_prefix(rc, "revocation %zu", i + 1);
			goto done;
		}
		y->reason = strcmp(why, "compromised") == 0 ? KR_REVOKE_COMPROMISED :
		    strcmp(why, "retired") == 0 ? KR_REVOKE_RETIRED : 0;
		if (!y->reason) {
			rc = kr_error(KR_EPROTO, "revocation %zu: reason '%.32s' is unknown (compromised, retired)",
			    i + 1, why);
			goto done;
		}
		y->since = pm->revoked[i]->since;
		if (pm->revoked[i]->replaced_by.len) {
			if ((rc = s_fixed(y->replaced_by, KR_FPR_LEN, pm->revoked[i]->replaced_by,
			    "replacement key")) < 0) {
				kr_error_prefix(rc, "revocation %zu", i + 1);
				goto done;
			}
			y->has_replacement = 1;
		}
	}
	free(keys);
	keys = kr_calloc(m->nrevoked, sizeof(*keys));
	for (size_t i = 0; i < m->nrevoked; i++)
		keys[i] = m->revoked[i].key;
	if (s_keys_distinct(keys, m->nrevoked) < 0)
		rc = kr_error(KR_EPROTO, "membership revokes one key twice");
done:
	free(keys);
	kairan__membership__free_unpacked(pm, NULL);
	if (rc < 0)
		kr_membership_clear(m);
	return rc;
}

void
kr_membership_clear(kr_membership *m)
{
	free(m->name);
	for (size_t i = 0; i < m->nboard; i++) {
		free(m->board[i].name);
		free(m->board[i].lg_code);
	}
	free(m->board);
	for (size_t i = 0; i < m->nmembers; i++) {
		free(m->members[i].lg_code);
		free(m->members[i].name);
		kr_strv_free(m->members[i].endpoints, m->members[i].nendpoints);
	}
	free(m->members);
	free(m->revoked);
	memset(m, 0, sizeof(*m));
}

int
kr_signed_multi_encode(kr_buf *out, const kr_signed_multi *s)
{
	Kairan__SignedMulti ps = KAIRAN__SIGNED_MULTI__INIT;
	Kairan__Signature *sigs = kr_calloc(s->nsigs, sizeof(*sigs));
	Kairan__Signature **sp = kr_calloc(s->nsigs, sizeof(*sp));

	ps.body = s_bin(s->body.ptr, s->body.len);
	for (size_t i = 0; i < s->nsigs; i++) {
		kairan__signature__init(&sigs[i]);
		sigs[i].key = s_bin(s->sigs[i].key, KR_FPR_LEN);
		sigs[i].sig = s_bin(s->sigs[i].sig, 64);
		sp[i] = &sigs[i];
	}
	ps.n_sigs = s->nsigs;
	ps.sigs = sp;
	s_pack(out, &ps.base);
	free(sigs);
	free(sp);
	return 0;
}

int
kr_signed_multi_decode(kr_signed_multi *s, const void *data, size_t len)
{
	Kairan__SignedMulti *ps;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	s->body = (kr_buf)KR_BUF_INIT;
	if (len > KR_FED_DOC_MAX + KR_FED_MAX_SIGS * 128)
		return kr_error(KR_EPROTO, "signed membership document of %zu bytes exceeds the %u byte limit",
		    len, KR_FED_DOC_MAX);
	if (!(ps = kairan__signed_multi__unpack(NULL, len, data)))
		return kr_error(KR_EPROTO, "signed membership document is not a valid protobuf message "
		    "(truncated or malformed)");
	if (ps->body.len == 0 || ps->body.len > KR_FED_DOC_MAX)
		rc = kr_error(KR_EPROTO, "membership body of %zu bytes (1 to %u)", ps->body.len, KR_FED_DOC_MAX);
	else if (ps->n_sigs > KR_FED_MAX_SIGS)
		rc = kr_error(KR_EPROTO, "membership carries %zu signatures, limit %d", ps->n_sigs, KR_FED_MAX_SIGS);
	if (rc == 0) {
		s->sigs = kr_calloc(ps->n_sigs, sizeof(*s->sigs));
		s->nsigs = ps->n_sigs;
		for (size_t i = 0; i < ps->n_sigs && rc == 0; i++)
			if ((rc = s_fixed(s->sigs[i].key, KR_FPR_LEN, ps->sigs[i]->key, "signature key")) == 0)
				rc = s_fixed(s->sigs[i].sig, 64, ps->sigs[i]->sig, "signature");
		if (rc == 0)
			kr_buf_add(&s->body, ps->body.data, ps->body.len);
	}
	kairan__signed_multi__free_unpacked(ps, NULL);
	if (rc < 0)
		kr_signed_multi_clear(s);
	return rc;
}

void
kr_signed_multi_clear(kr_signed_multi *s)
{
	kr_buf_release(&s->body);
	free(s->sigs);
	s->sigs = NULL;
	s->nsigs = 0;
}

/*
 * Field 1 (id, a varint) of a top-level Request, read by hand from bytes
 * that may not decode as a whole, so that even a refusal can name the
 * request it answers. Walks the top-level fields only; 0 when absent or
 * unreadable.
 */
uint64_t
kr_request_peek_id(const void *data, size_t len)
{
	const uint8_t *p = data, *end = p + len;

	while (p < end) {
		uint64_t key = 0, v = 0;
		int shift = 0;
		while (p < end && shift < 64) {
			key |= (uint64_t)(*p & 0x7f) << shift;
			shift += 7;
			if (!(*p++ & 0x80))
				break;
		}
		switch (key & 7) {
		case 0: /* varint */
			shift = 0;
			while (p < end && shift < 64) {
				v |= (uint64_t)(*p & 0x7f) << shift;
				shift += 7;
				if (!(*p++ & 0x80))
					break;
			}
			if (key >> 3 == 1)
				return v;
			break;
		case 1: p += 8; break;
		case 5: p += 4; break;
		case 2: /* length-delimited */
			shift = 0;
			while (p < end && shift < 64) {
				v |= (uint64_t)(*p & 0x7f) << shift;
				shift += 7;
				if (!(*p++ & 0x80))
					break;
			}
			if (v > (uint64_t)(end - p))
				return 0;
			p += v;
			break;
		default:
			return 0;
		}
	}
	return 0;
}
