/*
 * proto/codec.h - kairan wire messages as plain C structs
 *
 * Encoders append to a kr_buf. Decoders take untrusted bytes, reject
 * malformed, truncated and oversized input with KR_EPROTO and a message
 * naming the field, and fill caller-owned structs; free them with the
 * matching *_clear(). Every length is checked here, so the rest of the
 * program can trust sizes (a publisher is 32 bytes, a commit 20, ...).
 * This module alone calls protobuf_c_*.
 */
#ifndef KR_CODEC_H
#define KR_CODEC_H

#include "../sharing/common.h"

#define KR_MSG_MAX (4u << 20)      /* largest frame anyone sends us */
#define KR_CHUNK_MAX (1u << 20)    /* largest pack chunk */
#define KR_CHUNK_DEFAULT (256u << 10) /* FetchRequest.length 0 (absent) */
#define KR_SEARCH_DEFAULT_LIMIT 10 /* SearchRequest.limit 0 (absent) */
#define KR_MAX_HEADS 64
#define KR_MAX_HAVES 64
#define KR_MAX_SNAPSHOT 20000
#define KR_COLLECTION_MAX 63
#define KR_PROTO_VERSION 1

typedef struct {
	char collection[KR_COLLECTION_MAX + 1];
	uint8_t commit[KR_OID_LEN];
	uint64_t size;
} kr_head;

typedef struct {
	uint8_t publisher[KR_FPR_LEN];
	uint64_t seq;
	int64_t issued, expires;
	char *name, *lg_code;
	kr_head *heads;
	size_t nheads;
} kr_manifest;

typedef struct {
	kr_buf body;                   /* exact bytes that were signed */
	uint8_t key[KR_FPR_LEN];
	uint8_t sig[64];
} kr_signed;

typedef struct {
	uint8_t node[KR_FPR_LEN];
	int64_t time;
	uint8_t digest[16];
} kr_beacon;

enum { KR_REQ_HELLO = 1, KR_REQ_SNAPSHOT, KR_REQ_FETCH, KR_REQ_SEARCH, KR_REQ_MEMBERSHIP };
enum { KR_REP_HELLO = 1, KR_REP_SNAPSHOT, KR_REP_CHUNK, KR_REP_ERROR, KR_REP_SEARCH, KR_REP_MEMBERSHIP };

#define KR_FED_MAX_REPLY_VERSIONS 64  /* membership versions in one reply */
#define KR_FED_REPLY_BYTES (3u << 20)  /* a reply stops adding versions past this */

#define KR_SEARCH_FIELDS 10     /* query and filters, in SearchRequest order */
#define KR_MAX_HITS 1000

/* One search hit on the wire; strings owned by the struct holding it. */
typedef struct {
	char *id, *title, *pub_name, *lg_code, *kind, *version, *snippet, *outcome, *headline, *updated;
	uint8_t publisher[KR_FPR_LEN];
} kr_wire_hit;
enum { KR_WIRE_ENOTFOUND = 1, KR_WIRE_EBADREQ, KR_WIRE_EBUSY, KR_WIRE_EINTERNAL };

typedef struct {
	uint64_t id;
	int type;
	/* snapshot */
	uint8_t (*publishers)[KR_FPR_LEN];
	size_t npublishers;
	/* fetch */
	uint8_t publisher[KR_FPR_LEN];
	char collection[KR_COLLECTION_MAX + 1];
	uint8_t want[KR_OID_LEN];
	uint8_t (*haves)[KR_OID_LEN];
	size_t nhaves;
	uint64_t offset;
	uint32_t length;
	/* search: query, kind, domain, ai_use, outcome, deployment, publisher,
	 * pref, population_band, since (NULL or empty: not given) */
	char *search[KR_SEARCH_FIELDS];
	uint32_t limit;
	/* membership: the chain of federation fed after from_version */
	uint8_t fed[32];
	uint64_t from_version;
} kr_request;

typedef struct {
	uint64_t id;
	int type;
	/* hello */
	uint32_t version;
	uint8_t node[KR_FPR_LEN];
	char *name, *lg_code, *announce;
	/* snapshot: serialised kr_signed each */
	kr_buf *manifests;
	size_t nmanifests;
	uint8_t digest[16];
	/* chunk (total: pack size) */
	uint64_t offset, total;
	const uint8_t *data;           /* borrowed from the encoder's caller, or owned when decoded */
	size_t data_len;
	uint8_t *data_owned;
	/* error */
	uint32_t code;
	char *text;
	/* search (total: matches on that node); a hit with a malformed id, version
	 * or publisher is left out and counted in hits_dropped, over-long display
	 * strings (title 1024 bytes, snippet 4096, ...) are cut with "…" */
	kr_wire_hit *hits;
	size_t nhits, hits_dropped;
	/* membership: SignedMulti bytes each (at most KR_FED_MAX_REPLY_VERSIONS),
	 * and the newest version the server holds */
	kr_buf *versions;
	size_t nversions;
	uint64_t newest;
} kr_reply;

/* A collection name is [a-z0-9-]{1,63}. */
int kr_collection_valid(const char *name);

int kr_manifest_encode(kr_buf *out, const kr_manifest *m);
int kr_manifest_decode(kr_manifest *m, const void *data, size_t len);
void kr_manifest_clear(kr_manifest *m);

int kr_signed_encode(kr_buf *out, const kr_signed *s);
int kr_signed_decode(kr_signed *s, const void *data, size_t len);
void kr_signed_clear(kr_signed *s);
/* The seq Signed(Manifest) bytes carry, unverified; 0 when they do not decode. */
uint64_t kr_signed_manifest_seq(const void *data, size_t len);

int kr_beacon_encode(kr_buf *out, const kr_beacon *b);
int kr_beacon_decode(kr_beacon *b, const void *data, size_t len);

int kr_request_encode(kr_buf *out, const kr_request *r);
int kr_request_decode(kr_request *r, const void *data, size_t len);
/* The id of a request that may not decode (0 when unreadable): error replies echo it. */
uint64_t kr_request_peek_id(const void *data, size_t len);
void kr_request_clear(kr_request *r);

int kr_reply_encode(kr_buf *out, const kr_reply *r);
int kr_reply_decode(kr_reply *r, const void *data, size_t len);
void kr_reply_clear(kr_reply *r);

/*
 * A publisher's own announcement may carry the packs of the commits it
 * names (proto/kairan.proto InlinePacks): a subscriber whose head is base
 * takes the pack from there instead of fetching it. At most
 * KR_INLINE_PACKS packs of KR_INLINE_MAX bytes in all.
 */
#define KR_INLINE_PACKS 16
#define KR_INLINE_MAX (64u << 10)
#define KR_INLINE_FRAME_MAX (KR_INLINE_MAX + KR_INLINE_PACKS * 256) /* an InlinePacks message */

typedef struct {
	char collection[64];
	int has_base;
	uint8_t base[KR_OID_LEN];
	uint8_t want[KR_OID_LEN];
	kr_buf pack;
} kr_inline_pack;

typedef struct {
	kr_inline_pack *v;
	size_t n;
} kr_inline;

int kr_inline_encode(kr_buf *out, const kr_inline *in);
int kr_inline_decode(kr_inline *in, const void *data, size_t len);
void kr_inline_clear(kr_inline *in);

/* ---- federation (DESIGN §6) ---- */

#define KR_FED_DOC_MAX (1u << 20)  /* a membership body */
#define KR_FED_MAX_BOARD 32
#define KR_FED_MAX_SIGS (2 * KR_FED_MAX_BOARD)
#define KR_FED_MAX_MEMBERS 4096    /* 1,741 municipalities and 47 prefectures fit */
#define KR_FED_MAX_REVOKED 4096
#define KR_FED_MAX_ENDPOINTS 8
#define KR_FED_NAME_MAX 256
#define KR_ENDPOINT_MAX 256

enum { KR_ROLE_BOARD = 1, KR_ROLE_HUB = 2, KR_ROLE_MEMBER = 4 };
enum { KR_REVOKE_COMPROMISED = 1, KR_REVOKE_RETIRED = 2 };

typedef struct {
	uint8_t key[KR_FPR_LEN];
	char *name, *lg_code;
} kr_fed_seat;

typedef struct {
	char *lg_code, *name;
	unsigned roles;                /* KR_ROLE_* bits, at least one */
	uint8_t key[KR_FPR_LEN];
	uint8_t curve[32];
	int has_curve;
	char **endpoints;
	size_t nendpoints;
	int64_t valid_until;           /* 0: no end */
} kr_fed_member;

typedef struct {
	uint8_t key[KR_FPR_LEN];
	int reason;                    /* KR_REVOKE_* */
	int64_t since;
	uint8_t replaced_by[KR_FPR_LEN]; /* a rotation: the new key */
	int has_replacement;
} kr_fed_revoked;

typedef struct {
	uint8_t federation[32];        /* all zero in version 1 */
	int has_federation;
	char *name;
	uint64_t version;
	int64_t issued, expires;
	uint32_t threshold;
	kr_fed_seat *board;
	size_t nboard;
	kr_fed_member *members;
	size_t nmembers;
	kr_fed_revoked *revoked;
	size_t nrevoked;
} kr_membership;

typedef struct {
	uint8_t key[KR_FPR_LEN];
	uint8_t sig[64];
} kr_sig;

typedef struct {
	kr_buf body;                   /* exact bytes that were signed */
	kr_sig *sigs;
	size_t nsigs;
} kr_signed_multi;

/* Role names as they travel ("board", "hub", "member"); 0 if unknown. */
unsigned kr_role_parse(const char *name);
const char *kr_revoke_reason_name(int reason);

/*
 * Strict decoding: fixed key sizes, counts within the limits above, lg_code
 * six digits, known roles and revocation reasons, no key or lg_code listed
 * twice among members, no key twice on the board or among revocations.
 * The chain rules (threshold, version) are sharing/federation.c's.
 */
int kr_membership_encode(kr_buf *out, const kr_membership *m);
int kr_membership_decode(kr_membership *m, const void *data, size_t len);
void kr_membership_clear(kr_membership *m);

int kr_signed_multi_encode(kr_buf *out, const kr_signed_multi *s);
/* Refuses a body over KR_FED_DOC_MAX and more than KR_FED_MAX_SIGS signatures. */
int kr_signed_multi_decode(kr_signed_multi *s, const void *data, size_t len);
void kr_signed_multi_clear(kr_signed_multi *s);

#endif
