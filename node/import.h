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
	/* a header that maps to no field (may be NULL) */
	void (*unused_column)(void *arg, const char *header);
	/*
	 * Each non-empty row: the case item built from it (front matter and
	 * body), its slug as given (not yet validated: it may be anything the
	 * cell held) and the findings of kr_item_check. A negative return stops.
	 */
	int (*row)(void *arg, int row, const char *slug, const char *item, const kr_findings *f);
	void *arg;
} kr_import;

/*
 * Reads data (UTF-8 with or without BOM, else CP932), maps its header and
 * calls im->row for every record. KR_EUSAGE: not text in either encoding,
 * or no header (or more than 64 columns); else what im->row returned.
 */
int kr_import_csv(const kr_import *im, const char *data, size_t len);

#endif
