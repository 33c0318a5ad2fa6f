/*
 * node/import.h - case records from a spreadsheet (CSV) into case items
 */
#ifndef KR_IMPORT_H
#define KR_IMPORT_H

#include "../policies/item.h"

typedef struct {
	const char *lg_code, *name;     /* the importing node */
	const kr_policy *pol;
	const char *file;               /* the CSV's name, for messages ("FILE row N") */
	const char *map;                /* --map 'HEADER=field,...', or NULL */
	const char *separator;          /* --separator: list cells also split here (NULL: line breaks only) */
	const char *confidentiality;    /* --confidentiality: for rows that do not say (NULL: they must) */
	const char *license;            /* --license: likewise */
	const char *notes;              /* --notes: version_notes of changed rows that give none */
	/* a header that maps to no field (may be NULL) */
	void (*unused_column)(void *arg, const char *header);
	/*
	 * The item id as last published on this node (its file as signed;
	 * caller of kr_import_csv frees), or NULL: a new item. May be NULL.
	 */
	char *(*previous)(void *arg, const char *id);
	/*
	 * A row whose item was published before: old and new version (equal
	 * when the row did not change). May be NULL.
	 */
	void (*versioned)(void *arg, int row, const char *id, const char *old_version, const char *new_version);
	/*
	 * Each non-empty row: the case item built from it (front matter and
	 * body), its slug as given (not yet validated: it may be anything the
	 * cell held) and the findings of kr_item_check, with a blocking finding
	 * (rule "import", file "FILE row N") for each cell that cannot be read
	 * exactly. A negative return stops.
	 */
	int (*row)(void *arg, int row, const char *slug, const char *item, const kr_findings *f);
	void *arg;
} kr_import;

/*
 * Reads data (UTF-8 with or without BOM, else CP932), maps its header and
 * calls im->row for every record. KR_EUSAGE: not text in either encoding,
 * no header (or more than 64 columns), two columns for one field; else
 * what im->row returned.
 */
int kr_import_csv(const kr_import *im, const char *data, size_t len);

#endif
