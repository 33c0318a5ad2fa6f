/*
 * policies/board.c - fields and vocabularies of the board's kinds
 *
 * endorsement  target {id, version, blob}, verdict, conditions (required
 *              with 条件付き推奨), comment?, review_by
 * consultation question = the body, context?, domains (item.c), asked_by
 *              {department} — a department, never a person — state, and
 *              duplicate_of with 重複, accepted_answer with 解決
 * answer       consultation, the body, review_by, sources?; or, without a
 *              body of its own, a board member's decision: accepted_answer
 * adoption     target {id, version}, status, note (required with 不採用),
 *              metrics? as in case records
 * Checked through kr_item_check at publish and at receipt alike.
 */
#include "board.h"

#include <stdlib.h>
#include <string.h>

const char *const kr_verdicts[3] = { "推奨", "条件付き推奨", "注意" };
const char *const kr_consult_states[6] = { "受付", "回答済", "解決", "重複", "取下げ", "期限切れ" };
const char *const kr_adopt_statuses[3] = { "検討中", "採用", "不採用" };

static const char *const s_kinds[] = { "endorsement", "consultation", "answer", "adoption" };

int
kr_board_kind(const char *kind)
{
	for (size_t i = 0; kind && i < 4; i++)
		if (strcmp(kind, s_kinds[i]) == 0)
			return 1;
	return 0;
}

static int
s_line(const kr_yaml *map, const char *key)
{
	const kr_yaml *v = kr_yaml_get(map, key);

	return v ? v->line : map->line;
}

/* An item id <lg_code>/<kind>/<slug> (of want, unless NULL). */
static int
s_id_ok(const char *id, const char *want)
{
	const char *s1 = strchr(id, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;

	if (!s2 || s1 - id != 6 || strspn(id, "0123456789") != 6 || !s2[1] || strchr(s2 + 1, '/') ||
	    strspn(s2 + 1, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(s2 + 1))
		return 0;
	return !want || (strlen(want) == (size_t)(s2 - s1 - 1) && strncmp(s1 + 1, want, strlen(want)) == 0);
}

/* A required single value; reports it and returns NULL when missing or not a value. */
static const char *
s_need(const kr_yaml *map, const char *key, const char *shown, const char *file, kr_findings *f,
    const char *hint)
{
	const kr_yaml *v = kr_yaml_get(map, key);

	if (!v || v->type != KR_YAML_SCALAR || !v->value[0]) {
		kr_findings_add(f, file, v ? v->line : map->line, 1, shown, "%s '%s' (%s)",
		    v ? "a single value is needed for" : "required field is missing:", shown, hint);
		return NULL;
	}
	return v->value;
}

static void
s_date(const kr_yaml *map, const char *key, int required, const char *file, kr_findings *f)
{
	const char *v = kr_yaml_str(map, key);

	if (!v && !required)
		return;
	if (!v)
		kr_findings_add(f, file, s_line(map, key), 1, key, "required field '%s' is missing "
		    "(the date this must be reviewed again, e.g. %s: 2027-03-31)", key, key);
	else if (!kr_date_valid(v))
		kr_findings_add(f, file, s_line(map, key), 1, key, "%s '%s' is not an ISO date (YYYY-MM-DD, 西暦)", key, v);
}

static int
s_body_empty(const char *body, const char *end)
{
	for (; body < end; body++)
		if (*body != ' ' && *body != '\n' && *body != '\r' && *body != '\t')
			return 0;
	return 1;
}

static void
s_target(const kr_yaml *fm, int need_blob, const char *file, kr_findings *f)
{
	const kr_yaml *t = kr_yaml_get(fm, "target");
	const char *id, *blob;

	if (!t || t->type != KR_YAML_MAP) {
		kr_findings_add(f, file, t ? t->line : fm->line, 1, "target", "target must be {id: …, version: …%s} "
		    "(the item version this is about)", need_blob ? ", blob: …" : "");
		return;
	}
	if ((id = s_need(t, "id", "target.id", file, f, "e.g. 372081/guideline/ai-guideline")) && !s_id_ok(id, NULL))
		kr_findings_add(f, file, s_line(t, "id"), 1, "target.id", "target.id '%s' is not <lg_code>/<kind>/<slug>", id);
	s_need(t, "version", "target.version", file, f, "the item's version, e.g. 1.0.0");
	if (need_blob && (blob = s_need(t, "blob", "target.blob", file, f, "the git blob id of that version, 40 hex digits")) &&
	    (strlen(blob) != KR_OID_HEX || !kr_is_hex(blob, KR_OID_HEX)))
		kr_findings_add(f, file, s_line(t, "blob"), 1, "target.blob", "target.blob '%s' is not a 40-digit git blob id", blob);
}

void
kr_board_kind_rules(const kr_yaml *fm, const char *kind, const char *body, const char *end,
    const char *file, kr_findings *f)
{
	if (strcmp(kind, "endorsement") == 0) {
		const char *v;
		s_target(fm, 1, file, f);
		kr_item_vocab(fm, "verdict", 1, 0, kr_verdicts, 3, file, f);
		v = kr_yaml_str(fm, "verdict");
		if (v && strcmp(v, "条件付き推奨") == 0 && !kr_yaml_str(fm, "conditions"))
			kr_findings_add(f, file, s_line(fm, "verdict"), 1, "conditions",
			    "verdict 条件付き推奨 needs conditions: the conditions under which the board recommends it");
		s_date(fm, "review_by", 1, file, f);
	} else if (strcmp(kind, "consultation") == 0) {
		const kr_yaml *ab = kr_yaml_get(fm, "asked_by");
		const char *st;
		if (s_body_empty(body, end))
			kr_findings_add(f, file, fm->line, 1, "question", "a consultation needs the question as its body");
		if (!ab || ab->type != KR_YAML_MAP || !kr_yaml_str(ab, "department")) {
			kr_findings_add(f, file, ab ? ab->line : fm->line, 1, "asked_by",
			    "asked_by must be {department: …} (a department such as 情報政策課, never a person)");
		} else {
			for (size_t i = 0; i < ab->n; i++)
				if (strcmp(ab->keys[i], "department") != 0)
					kr_findings_add(f, file, ab->items[i]->line, 1, "asked_by",
					    "asked_by.%s is not allowed: a consultation names a department, never a person", ab->keys[i]);
		}
		kr_item_vocab(fm, "state", 1, 0, kr_consult_states, 6, file, f);
		st = kr_yaml_str(fm, "state");
		if (st && strcmp(st, "重複") == 0) {
			const char *d = kr_yaml_str(fm, "duplicate_of");
			if (!d || !s_id_ok(d, "consultation"))
				kr_findings_add(f, file, s_line(fm, "state"), 1, "duplicate_of",
				    "state 重複 needs duplicate_of: the id of the canonical consultation (<lg_code>/consultation/<slug>)");
		}
		if (st && strcmp(st, "解決") == 0) {
			const char *a = kr_yaml_str(fm, "accepted_answer");
			if (!a || !s_id_ok(a, "answer"))
				kr_findings_add(f, file, s_line(fm, "state"), 1, "accepted_answer",
				    "state 解決 needs accepted_answer: the id of the answer (<lg_code>/answer/<slug>)");
		}
	} else if (strcmp(kind, "answer") == 0) {
		const char *cid = s_need(fm, "consultation", "consultation", file, f, "the id of the consultation answered");
		const char *acc = kr_yaml_str(fm, "accepted_answer");
		if (cid && !s_id_ok(cid, "consultation"))
			kr_findings_add(f, file, s_line(fm, "consultation"), 1, "consultation",
			    "consultation '%s' is not <lg_code>/consultation/<slug>", cid);
		if (acc && !s_id_ok(acc, "answer"))
			kr_findings_add(f, file, s_line(fm, "accepted_answer"), 1, "accepted_answer",
			    "accepted_answer '%s' is not <lg_code>/answer/<slug>", acc);
		if (!acc && s_body_empty(body, end))
			kr_findings_add(f, file, fm->line, 1, "answer", "an answer needs its text as the body");
		s_date(fm, "review_by", !acc, file, f);
	} else if (strcmp(kind, "adoption") == 0) {
		const char *st;
		s_target(fm, 0, file, f);
		kr_item_vocab(fm, "status", 1, 0, kr_adopt_statuses, 3, file, f);
		st = kr_yaml_str(fm, "status");
		if (st && strcmp(st, "不採用") == 0 && !kr_yaml_str(fm, "note"))
			kr_findings_add(f, file, s_line(fm, "status"), 1, "note",
			    "status 不採用 needs note: why it was not adopted (other towns learn from it)");
		{
			const kr_yaml *ms = kr_yaml_get(fm, "metrics");
			for (size_t i = 0; ms && ms->type == KR_YAML_SEQ && i < ms->n; i++) {
				const char *a = kr_yaml_str(ms->items[i], "achieved");
				char *e = NULL;
				if (!kr_yaml_str(ms->items[i], "name") || !a || (strtod(a, &e), *e != '\0'))
					kr_findings_add(f, file, ms->items[i]->line, 1, "metrics",
					    "each metric needs name and a number achieved (e.g. {name: 削減時間, unit: 時間, achieved: 120})");
			}
			if (ms && ms->type != KR_YAML_SEQ)
				kr_findings_add(f, file, ms->line, 1, "metrics", "metrics must be a list of {name, achieved}");
		}
	}
}

static char *
s_dup(const kr_yaml *map, const char *key)
{
	const char *v = map ? kr_yaml_str(map, key) : NULL;

	return v ? kr_strdup(v) : NULL;
}

int
kr_board_parse(kr_board_rec *out, const char *text, size_t len)
{
	kr_yaml *fm = NULL;
	const kr_yaml *t, *pub, *ab, *d, *ms;
	const char *body, *end = text + len;
	int bl;

	memset(out, 0, sizeof(*out));
	if (kr_frontmatter_parse(&fm, text, len, &body, &bl) < 0)
		return KR_EPOLICY;
	t = kr_yaml_get(fm, "target");
	pub = kr_yaml_get(fm, "publisher");
	ab = kr_yaml_get(fm, "asked_by");
	out->kind = s_dup(fm, "kind");
	out->id = s_dup(fm, "id");
	out->title = s_dup(fm, "title");
	out->version = s_dup(fm, "version");
	out->published = s_dup(fm, "published");
	out->updated = s_dup(fm, "updated");
	out->lg_code = s_dup(pub, "lg_code");
	out->pub_name = s_dup(pub, "name");
	out->target_id = s_dup(t, "id");
	out->target_version = s_dup(t, "version");
	out->target_blob = s_dup(t, "blob");
	out->verdict = s_dup(fm, "verdict");
	out->conditions = s_dup(fm, "conditions");
	out->comment = s_dup(fm, "comment");
	out->review_by = s_dup(fm, "review_by");
	out->consultation = s_dup(fm, "consultation");
	out->accepted_answer = s_dup(fm, "accepted_answer");
	out->state = s_dup(fm, "state");
	out->duplicate_of = s_dup(fm, "duplicate_of");
	out->context = s_dup(fm, "context");
	out->department = s_dup(ab, "department");
	out->status = s_dup(fm, "status");
	out->note = s_dup(fm, "note");
	if ((d = kr_yaml_get(fm, "domains")) && d->type == KR_YAML_SEQ) {
		kr_buf b = KR_BUF_INIT;
		for (size_t i = 0; i < d->n; i++)
			if (d->items[i]->type == KR_YAML_SCALAR)
				kr_buf_addf(&b, "%s%s", b.len ? "、" : "", d->items[i]->value);
		out->domains = kr_buf_detach(&b);
	}
	if ((ms = kr_yaml_get(fm, "metrics")) && ms->type == KR_YAML_SEQ) {
		kr_buf b = KR_BUF_INIT;
		for (size_t i = 0; i < ms->n; i++) {
			const char *n = kr_yaml_str(ms->items[i], "name"), *a = kr_yaml_str(ms->items[i], "achieved");
			const char *u = kr_yaml_str(ms->items[i], "unit");
			if (n && a)
				kr_buf_addf(&b, "%s%s=%s%s", b.len ? ", " : "", n, a, u ? u : "");
		}
		out->metrics = kr_buf_detach(&b);
	}
	while (body < end && (*body == '\n' || *body == '\r'))
		body++;
	while (end > body && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	out->body = kr_strndup(body, (size_t)(end - body));
	kr_yaml_free(&fm);
	return 0;
}

void
kr_board_rec_clear(kr_board_rec *r)
{
	char **v[] = {
		&r->kind, &r->id, &r->title, &r->version, &r->published, &r->updated, &r->lg_code, &r->pub_name,
		&r->target_id, &r->target_version, &r->target_blob, &r->verdict, &r->conditions, &r->comment,
		&r->review_by, &r->consultation, &r->accepted_answer, &r->state, &r->duplicate_of, &r->context,
		&r->department, &r->domains, &r->status, &r->note, &r->metrics, &r->body,
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		free(*v[i]);
		*v[i] = NULL;
	}
}
