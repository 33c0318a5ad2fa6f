/*
 * tests/tools/searchcorpus.h - the generated search corpus and query shapes
 * shared by searchbench (kairan beside SQLite trigram) and groongabench
 * (kairan beside Groonga), so every engine indexes the same text and runs
 * the same queries in the same order.
 *
 * Deterministic: one seed, one rand_r stream. Single-threaded test tools only.
 */
#ifndef KR_SEARCHCORPUS_H
#define KR_SEARCHCORPUS_H

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../sharing/common.h"

static const char *const sc_nouns[] = {
	"住民", "問合せ", "生成AI", "チャットボット", "ごみ", "分別", "収集日", "議会", "答弁", "子育て",
	"正答率", "削減時間", "職員", "研修", "個人情報", "機密性", "ガイドライン", "プロンプト", "窓口",
	"観光", "防災", "避難所", "福祉", "介護", "保育所", "入所選考", "広報紙", "議事録", "要約",
	"翻訳", "データ", "分析", "アンケート", "自由記述", "費用", "効果", "実証", "導入", "見送り",
	"LGWAN", "ChatGPT", "RAG", "文書", "下書き", "確認", "誤答", "根拠", "規程", "庁内", "市民",
	"町民", "担当課", "システム", "クラウド", "オンプレ", "セキュリティ", "ハルシネーション",
	"水道", "スマートメーター", "スクリプト", "仕様書", "SNS", "投稿", "選挙", "申請", "手続き",
};
static const char *const sc_verbs[] = {
	"を試した", "を導入した", "を見直した", "を確認した", "を作成した", "を分析した", "に活用した",
	"を減らした", "を整理した", "を案内した", "が増えた", "が課題になった", "を検討している",
};
static const char *const sc_joins[] = { "の", "と", "による", "に関する", "向けの", "での" };
static const char *const sc_outcomes[] = { "本格導入", "継続実証", "見送り", "中止" };
static const char *const sc_domains[] = {
	"庁内一般業務", "住民問合せ対応", "子ども・子育て", "広報", "防災・減災", "福祉・介護", "観光",
};
#define SC_N(a) (sizeof(a) / sizeof((a)[0]))

static unsigned sc_seed = 12345;

static int
sc_rand(int n)
{
	return rand_r(&sc_seed) % n;
}

/*
 * A realistic vocabulary: the domain words above plus a few thousand
 * generated compounds of common kanji and katakana, drawn with a Zipf
 * distribution (word k has weight 1/k), so most words are rare and a few
 * are everywhere, as in real text.
 */
static const char sc_kanji[] =
	"市町村県庁住民職員議会答弁子育保育福祉介護観光防災避難所税務財政政策企画広報教育文化"
	"健康医療環境資源分別収集施設道路水道下水公園交通安全消防警察選挙統計情報管理運用支援"
	"相談窓口申請届出証明発行手続審査決定通知確認検討導入実証効果費用削減時間改善課題対応"
	"研修規程要綱計画報告会議資料作成要約翻訳分析調査回答問合質問案内説明公開共有協力連携";
static const char *const sc_kata[] = {
	"チャット", "ボット", "システム", "クラウド", "データ", "サービス", "プロンプト", "モデル",
	"セキュリティ", "ガイド", "ライン", "ツール", "アプリ", "ポータル", "メール", "サイト",
};
#define SC_VOCAB 4000
static char *sc_vocab[SC_VOCAB];
static double sc_cdf[SC_VOCAB];

static void
sc_vocab_init(void)
{
	size_t nk = (sizeof(sc_kanji) - 1) / 3;
	double sum = 0;

	for (int i = 0; i < SC_VOCAB; i++) {
		kr_buf w = KR_BUF_INIT;
		int parts = 2 + sc_rand(3);
		for (int k = 0; k < parts; k++) {
			if (sc_rand(6) == 0)
				kr_buf_adds(&w, sc_kata[sc_rand((int)SC_N(sc_kata))]);
			else
				kr_buf_add(&w, sc_kanji + 3 * (size_t)sc_rand((int)nk), 3);
		}
		sc_vocab[i] = kr_buf_detach(&w);
		sum += 1.0 / (i + 1);
		sc_cdf[i] = sum;
	}
	for (int i = 0; i < SC_VOCAB; i++)
		sc_cdf[i] /= sum;
}

static const char *
sc_word(void)
{
	double x = (double)rand_r(&sc_seed) / RAND_MAX;
	int lo = 0, hi = SC_VOCAB - 1;

	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (sc_cdf[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return sc_vocab[lo];
}

static void
sc_sentence(kr_buf *b)
{
	kr_buf_adds(b, sc_rand(4) ? sc_word() : sc_nouns[sc_rand((int)SC_N(sc_nouns))]);
	kr_buf_adds(b, sc_joins[sc_rand((int)SC_N(sc_joins))]);
	kr_buf_adds(b, sc_rand(4) ? sc_word() : sc_nouns[sc_rand((int)SC_N(sc_nouns))]);
	if (sc_rand(3) == 0)
		kr_buf_addf(b, "を%d件", 10 + sc_rand(9000));
	kr_buf_adds(b, sc_verbs[sc_rand((int)SC_N(sc_verbs))]);
	kr_buf_adds(b, sc_rand(4) ? "。" : "、");
}

typedef struct {
	int n;
	char **titles, **bodies;
	const char **outcomes, **domains;
	size_t bytes;
} sc_corpus;

/* n items of 1-2 KB of Japanese each, an outcome and one domain each. */
static void
sc_corpus_make(sc_corpus *c, int n)
{
	sc_vocab_init();
	c->n = n;
	c->bodies = kr_calloc((size_t)n, sizeof(char *));
	c->titles = kr_calloc((size_t)n, sizeof(char *));
	c->outcomes = kr_calloc((size_t)n, sizeof(char *));
	c->domains = kr_calloc((size_t)n, sizeof(char *));
	c->bytes = 0;
	for (int i = 0; i < n; i++) {
		kr_buf b = KR_BUF_INIT, t = KR_BUF_INIT;
		int target = 1000 + sc_rand(1000);
		while ((int)b.len < target)
			sc_sentence(&b);
		sc_sentence(&t);
		c->bodies[i] = kr_buf_detach(&b);
		c->titles[i] = kr_buf_detach(&t);
		c->outcomes[i] = sc_outcomes[sc_rand(4)];
		c->domains[i] = sc_domains[sc_rand(7)];
		c->bytes += strlen(c->bodies[i]);
	}
}

/* A random substring of n characters (no separators) from a random item's body. */
static char *
sc_pick(const sc_corpus *c, int n)
{
	for (;;) {
		const char *b = c->bodies[sc_rand(c->n)];
		size_t len = strlen(b), start = (size_t)sc_rand((int)len);
		const char *p = b + start, *q;
		int ok = 1;
		while (((unsigned char)*p & 0xC0) == 0x80)
			p++;
		q = p;
		for (int i = 0; i < n && ok; i++) {
			if (!*q) {
				ok = 0;
				break;
			}
			/* no separators or Latin letters (they are whole words): kanji and kana only */
			if ((unsigned char)*q < 0xE3 || (unsigned char)*q > 0xE9 ||
			    strncmp(q, "。", 3) == 0 || strncmp(q, "、", 3) == 0)
				ok = 0;
			q += 3;
		}
		if (ok)
			return kr_strndup(p, (size_t)(q - p));
	}
}

typedef struct {
	const char *name;
	int chars, terms, phrase, facet;
} sc_shape;

static const sc_shape sc_shapes[] = {
	{ "1 character", 1, 1, 0, 0 }, { "2 characters", 2, 1, 0, 0 }, { "3 characters", 3, 1, 0, 0 },
	{ "6 characters", 6, 1, 0, 0 }, { "two terms (2 + 3 chars)", 0, 2, 0, 0 },
	{ "phrase (4 chars)", 4, 1, 1, 0 },
	{ "1 character + facet", 1, 1, 0, 1 }, { "2 characters + facet", 2, 1, 0, 1 },
	{ "3 characters + facet", 3, 1, 0, 1 }, { "6 characters + facet", 6, 1, 0, 1 },
	{ "two terms + facet", 0, 2, 0, 1 }, { "phrase + facet", 4, 1, 1, 1 },
};
/* The facet a "+ facet" shape filters on (outcome). */
#define SC_FACET_OUTCOME "見送り"

/* The terms of one query of shape s (1 or 2, caller frees) and kairan's query text in q. */
static int
sc_query(const sc_corpus *c, const sc_shape *s, char **terms, kr_buf *q)
{
	if (s->terms == 2) {
		terms[0] = sc_pick(c, 2);
		terms[1] = sc_pick(c, 3);
		kr_buf_addf(q, "%s %s", terms[0], terms[1]);
		return 2;
	}
	terms[0] = sc_pick(c, s->chars);
	kr_buf_addf(q, s->phrase ? "\"%s\"" : "%s", terms[0]);
	return 1;
}

static int
sc_cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The p-th percentile of v[0..n) (sorts v). */
static double
sc_pct(double *v, int n, int p)
{
	int i = n * p / 100;

	qsort(v, (size_t)n, sizeof(double), sc_cmpd);
	return v[i < n ? i : n - 1];
}

/* Bytes of a file plus its -wal file. */
static long
sc_size(const char *path)
{
	struct stat st;
	char *wal = kr_sprintf("%s-wal", path);
	long n = stat(path, &st) == 0 ? (long)st.st_size : 0;

	if (stat(wal, &st) == 0)
		n += (long)st.st_size;
	free(wal);
	return n;
}

#endif
