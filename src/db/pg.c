/* SPDX-License-Identifier: Apache-2.0 */
/* The PostgreSQL driver over libpq: ? placeholders rewritten to $n, statements prepared and cached
 * per connection, results typed by column OID, errors by SQLSTATE, reconnection with backoff. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "core/clock.h"
#include "db/driver.h"

enum {
	PG_CACHE_MAX = 128,	  /* prepared statements kept per connection */
	PG_BACKOFF_MIN_MS = 100,  /* first wait after a failed reconnect attempt, doubling ... */
	PG_BACKOFF_MAX_MS = 5000, /* ... up to this */
	PG_MAX_PARAMS = 65535,	  /* the protocol's limit */
	PG_NUM_LEN = 32,	  /* text of one int8/float8/bool parameter */
	PG_TIME_LEN = 40,	  /* one RFC 3339 result value */
};

/* Type OIDs (catalog/pg_type_d.h is a server header). */
enum {
	OID_UNKNOWN = 0,
	OID_BOOL = 16,
	OID_BYTEA = 17,
	OID_INT8 = 20,
	OID_INT2 = 21,
	OID_INT4 = 23,
	OID_OID = 26,
	OID_FLOAT4 = 700,
	OID_FLOAT8 = 701,
	OID_TIMESTAMP = 1114,
	OID_TIMESTAMPTZ = 1184,
	OID_NUMERIC = 1700,
};

/* How a result column is converted. */
enum pg_kind { K_TEXT, K_BOOL, K_INT, K_FLOAT, K_NUMERIC, K_BYTEA, K_TIME };

struct pg_stmt {
	char *key; /* owned: SQL, NUL, parameter type signature (one letter per parameter) */
	size_t keylen;
	uint64_t hash;
	uint64_t last_use;
	char name[24];	 /* "al_s<n>": unique for the life of the connection object */
	char *rewritten; /* owned: the SQL with $1..$n, kept to prepare again after a reset */
	int nparams;
};

struct pg_conn {
	PGconn *pg;
	char where[256]; /* "host:port" for messages (never the password) */
	struct pg_stmt stmts[PG_CACHE_MAX];
	size_t nstmts;
	uint64_t next_id, use_clock;
	/* Connection state: lost = known dead, reconnect on a later call, not before retry_at_ns.
	 * tx_lost = it died inside a transaction: refuse statements until ROLLBACK (or COMMIT,
	 * which fails) so that the rest of a broken transaction never runs in autocommit. */
	bool lost, tx_lost;
	bool closing; /* the server sent FATAL while we were idle */
	int64_t retry_at_ns, backoff_ms;
	/* Scratch reused by every call (one thread at a time uses a connection). */
	char *key;
	size_t key_cap;
	char *pbuf; /* parameter text */
	size_t pbuf_cap;
	const char **pvals;
	int *plens, *pfmts;
	Oid *ptypes;
	size_t pcap;
	const char **names;
	struct al_db_value *vals;
	enum pg_kind *kinds;
	size_t ccap;
	char *rbuf; /* decoded bytea and formatted times of one row */
	size_t rbuf_cap;
};

static void noop_notice(void *arg, const char *message)
{
}

/* Notices are dropped (never to stderr). An error that arrives while no statement runs is the
 * server saying why it is about to close the connection (libpq hands it over as a notice). */
static void on_notice(void *arg, const PGresult *res)
{
	struct pg_conn *pc = arg;
	const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	if (severity && (strcmp(severity, "FATAL") == 0 || strcmp(severity, "PANIC") == 0))
		pc->closing = true;
}

/* Grows the byte buffer *p to at least n bytes; false on allocation failure. */
static bool grow(char **p, size_t *cap, size_t n)
{
	if (n <= *cap && *p)
		return true;
	size_t c = *cap ? *cap : 256;
	while (c < n)
		c *= 2;
	char *q = realloc(*p, c);
	if (!q)
		return false;
	*p = q;
	*cap = c;
	return true;
}

/* Copies a libpq message into out on one line: newlines and tabs to spaces, trailing blanks off. */
static void one_line(char *out, size_t outlen, const char *msg)
{
	size_t n = 0;
	bool space = false;
	for (const char *s = msg ? msg : ""; *s && n + 1 < outlen; s++) {
		if (*s == '\n' || *s == '\t' || *s == '\r' || *s == ' ') {
			space = n > 0;
			continue;
		}
		if (space && n + 2 < outlen)
			out[n++] = ' ';
		space = false;
		out[n++] = *s;
	}
	out[n] = '\0';
}

/* ---- placeholders ---------------------------------------------------------------------- */

static bool ident_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

/* Length of the quoted or commented span starting at s[i], or 0 when s[i] starts none. */
static size_t skip_span(const char *s, size_t i)
{
	size_t j;
	char c = s[i];

	if (c == '\'') {
		/* E'...' strings take backslash escapes; '' is a quote everywhere. */
		bool esc =
		    i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e') && (i == 1 || !ident_char((unsigned char)s[i - 2]));
		for (j = i + 1; s[j]; j++) {
			if (esc && s[j] == '\\' && s[j + 1])
				j++;
			else if (s[j] == '\'' && s[j + 1] == '\'')
				j++;
			else if (s[j] == '\'')
				return j + 1 - i;
		}
		return j - i;
	}
	if (c == '"') {
		for (j = i + 1; s[j]; j++) {
			if (s[j] == '"' && s[j + 1] == '"')
				j++;
			else if (s[j] == '"')
				return j + 1 - i;
		}
		return j - i;
	}
	if (c == '-' && s[i + 1] == '-') {
		for (j = i; s[j] && s[j] != '\n'; j++)
			;
		return j - i;
	}
	if (c == '/' && s[i + 1] == '*') { /* comments nest in PostgreSQL */
		int depth = 1;
		for (j = i + 2; s[j] && depth > 0; j++) {
			if (s[j] == '/' && s[j + 1] == '*')
				depth++, j++;
			else if (s[j] == '*' && s[j + 1] == '/')
				depth--, j++;
		}
		return j - i;
	}
	if (c == '$' && (i == 0 || (!ident_char((unsigned char)s[i - 1]) && s[i - 1] != '$'))) {
		/* $tag$ ... $tag$ where tag is empty or an identifier not starting with a digit ($1 is not one). */
		j = i + 1;
		if (s[j] != '$') {
			if (!ident_char((unsigned char)s[j]) || (s[j] >= '0' && s[j] <= '9'))
				return 0;
			while (ident_char((unsigned char)s[j]))
				j++;
			if (s[j] != '$')
				return 0;
		}
		size_t taglen = j + 1 - i;
		for (const char *p = s + j + 1; (p = strchr(p, '$')); p++) {
			if (strncmp(p, s + i, taglen) == 0)
				return (size_t)(p - s) + taglen - i;
		}
		return strlen(s + i);
	}
	return 0;
}

/* Rewrites ? to $1..$n into out (NULL: only count) and returns the number of placeholders.
 * "??" stands for a literal ? (the jsonb operators ?, ?| and ?& are written ??, ??| and ??&).
 * out needs strlen(sql) + 6 * count + 1 bytes. */
static size_t rewrite_placeholders(const char *sql, char *out)
{
	size_t n = 0, o = 0;

	for (size_t i = 0; sql[i];) {
		size_t span = skip_span(sql, i);
		if (span) {
			if (out)
				memcpy(out + o, sql + i, span);
			o += span;
			i += span;
		} else if (sql[i] == '?' && sql[i + 1] == '?') {
			if (out)
				out[o] = '?';
			o++;
			i += 2;
		} else if (sql[i] == '?') {
			n++;
			if (out)
				o += (size_t)sprintf(out + o, "$%zu", n);
			i++;
		} else {
			if (out)
				out[o] = sql[i];
			o++;
			i++;
		}
	}
	if (out)
		out[o] = '\0';
	return n;
}

/* ---- errors and the connection's state ------------------------------------------------ */

static bool in_transaction(PGTransactionStatusType tx)
{
	return tx == PQTRANS_INTRANS || tx == PQTRANS_INERROR || tx == PQTRANS_ACTIVE;
}

static void drop_cache(struct pg_conn *pc)
{
	for (size_t i = 0; i < pc->nstmts; i++) {
		free(pc->stmts[i].key);
		free(pc->stmts[i].rewritten);
	}
	pc->nstmts = 0;
}

/* The connection died: the next call may try to reconnect at once; tx says whether a transaction
 * was open, which is then gone. */
static void mark_lost(struct pg_conn *pc, PGTransactionStatusType tx)
{
	if (!pc->lost) {
		pc->lost = true;
		pc->retry_at_ns = 0;
		pc->backoff_ms = PG_BACKOFF_MIN_MS;
	}
	if (in_transaction(tx))
		pc->tx_lost = true;
}

static enum al_db_code code_of(const char *state)
{
	if (!state || strlen(state) != 5)
		return AL_DB_ERROR;
	if (strncmp(state, "08", 2) == 0)
		return AL_DB_UNAVAILABLE;
	static const struct {
		const char *state;
		enum al_db_code code;
	} map[] = {
	    {"23505", AL_DB_UNIQUE},	  {"23503", AL_DB_FOREIGN_KEY}, {"23502", AL_DB_NOT_NULL},
	    {"23514", AL_DB_CHECK},	  {"57014", AL_DB_TIMEOUT},	{"40001", AL_DB_BUSY},
	    {"40P01", AL_DB_BUSY},	  {"55P03", AL_DB_BUSY},	{"25006", AL_DB_READONLY},
	    {"57P01", AL_DB_UNAVAILABLE}, {"57P02", AL_DB_UNAVAILABLE}, {"57P03", AL_DB_UNAVAILABLE},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(state, map[i].state) == 0)
			return map[i].code;
	return AL_DB_ERROR;
}

/* Fills err from a failed result (res may be NULL) and notes a lost connection; returns false. */
static bool fail(struct pg_conn *pc, const PGresult *res, PGTransactionStatusType tx_before, struct al_db_error *err)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	enum al_db_code code = code_of(state);
	char msg[sizeof err->message];

	one_line(msg, sizeof msg, primary ? primary : res ? PQresultErrorMessage(res) : PQerrorMessage(pc->pg));
	if (!msg[0])
		one_line(msg, sizeof msg, PQerrorMessage(pc->pg));
	if (PQstatus(pc->pg) == CONNECTION_BAD || code == AL_DB_UNAVAILABLE) {
		mark_lost(pc, tx_before);
		al_db_set_error(err, AL_DB_UNAVAILABLE, "PostgreSQL connection lost: %s", msg);
		return false;
	}
	/* Constraint details echo row values (user data): the primary message names the constraint. */
	if (detail && state && strncmp(state, "23", 2) != 0) {
		char d[sizeof err->message];
		one_line(d, sizeof d, detail);
		al_db_set_error(err, code, "%s (%s)", msg, d);
	} else {
		al_db_set_error(err, code, "%s", msg);
	}
	return false;
}

/* Notices a connection the server closed while we were idle (restart, pg_terminate_backend,
 * idle timeout): its FATAL message and EOF wait in the socket. Nothing was sent, so a statement
 * outside a transaction may safely go to a new connection instead. */
static void check_idle(struct pg_conn *pc)
{
	if (pc->lost)
		return;
	PGTransactionStatusType tx = PQtransactionStatus(pc->pg);
	if (PQstatus(pc->pg) == CONNECTION_OK) {
		/* A few rounds: the FATAL message comes in one read, the EOF in the next. */
		struct pollfd p = {.fd = PQsocket(pc->pg), .events = POLLIN};
		for (int i = 0; i < 4 && p.fd >= 0 && poll(&p, 1, 0) > 0; i++) {
			if (!PQconsumeInput(pc->pg) || PQstatus(pc->pg) != CONNECTION_OK)
				break;
		}
		PGnotify *n;
		while ((n = PQnotifies(pc->pg)))
			PQfreemem(n);
		if (PQstatus(pc->pg) == CONNECTION_OK && !pc->closing)
			return;
	}
	mark_lost(pc, tx);
}

/* Makes sure there is a live connection, reconnecting a lost one when the backoff allows. */
static bool ready(struct pg_conn *pc, struct al_db_error *err)
{
	if (!pc->lost)
		return true;
	int64_t now = al_monotonic_ns();
	if (now < pc->retry_at_ns) {
		al_db_set_error(err, AL_DB_UNAVAILABLE,
				"PostgreSQL connection lost; next reconnect attempt in %" PRId64 " ms",
				(pc->retry_at_ns - now + 999999) / 1000000);
		return false;
	}
	PQreset(pc->pg);
	if (PQstatus(pc->pg) != CONNECTION_OK) {
		char msg[sizeof err->message];
		one_line(msg, sizeof msg, PQerrorMessage(pc->pg));
		pc->retry_at_ns = al_monotonic_ns() + pc->backoff_ms * 1000000;
		pc->backoff_ms = pc->backoff_ms * 2 > PG_BACKOFF_MAX_MS ? PG_BACKOFF_MAX_MS : pc->backoff_ms * 2;
		al_db_set_error(err, AL_DB_UNAVAILABLE, "cannot connect to PostgreSQL at %s: %s", pc->where, msg);
		return false;
	}
	pc->lost = pc->closing = false;
	pc->backoff_ms = PG_BACKOFF_MIN_MS;
	drop_cache(pc); /* the new server session has none of them */
	return true;
}

/* Liveness, the lost-transaction rule, then reconnection. Returns 1 to go on, 0 when the call is
 * answered without the server (ROLLBACK of a lost transaction), -1 on failure (err filled). */
static int begin_call(struct pg_conn *pc, const char *sql, struct al_db_error *err)
{
	check_idle(pc);
	if (pc->tx_lost) {
		if (sql && strcmp(sql, "ROLLBACK") == 0) {
			pc->tx_lost = false; /* the server already rolled it back */
			return 0;
		}
		if (sql && strcmp(sql, "COMMIT") == 0)
			pc->tx_lost = false;
		al_db_set_error(err, AL_DB_UNAVAILABLE,
				"PostgreSQL connection lost during the transaction; nothing of it was committed");
		return -1;
	}
	return ready(pc, err) ? 1 : -1;
}

/* ---- open / close ---------------------------------------------------------------------- */

/* Adds a connection keyword unless its value is empty (libpq then uses its default). */
static void add_kw(const char **kw, const char **val, int *n, const char *k, const char *v)
{
	if (v && v[0]) {
		kw[*n] = k;
		val[(*n)++] = v;
	}
}

static void *pg_open(const struct al_db_options *opts, struct al_db_error *err)
{
	struct pg_conn *pc = calloc(1, sizeof *pc);
	if (!pc) {
		al_db_set_error(err, AL_DB_ERROR, "out of memory");
		return NULL;
	}
	char port[24], timeout[24], options[160];
	const char *kw[12], *val[12];
	int n = 0;
	bool has_host = opts->pg_host && opts->pg_host[0];

	snprintf(port, sizeof port, "%" PRId64, opts->pg_port);
	/* libpq takes whole seconds (and treats 1 as 2); 0 would wait forever. */
	snprintf(timeout, sizeof timeout, "%" PRId64,
		 opts->connect_timeout_ms > 0 ? (opts->connect_timeout_ms + 999) / 1000 : 0);
	/* DateStyle and bytea_output pin the text formats parsed below, whatever the server's defaults. */
	snprintf(options, sizeof options,
		 "-c statement_timeout=%" PRId64 " -c TimeZone=UTC -c client_encoding=UTF8 -c DateStyle=ISO"
		 " -c bytea_output=hex",
		 opts->statement_timeout_ms > 0 ? opts->statement_timeout_ms : 0);
	add_kw(kw, val, &n, "host", opts->pg_host);
	add_kw(kw, val, &n, "port", port);
	add_kw(kw, val, &n, "user", opts->pg_user);
	add_kw(kw, val, &n, "password", opts->pg_password);
	add_kw(kw, val, &n, "dbname", opts->pg_dbname);
	add_kw(kw, val, &n, "sslmode", opts->pg_sslmode);
	add_kw(kw, val, &n, "connect_timeout", timeout);
	add_kw(kw, val, &n, "application_name", opts->application_name);
	add_kw(kw, val, &n, "options", options);
	kw[n] = val[n] = NULL;
	snprintf(pc->where, sizeof pc->where, "%s:%s", has_host ? opts->pg_host : "(default socket)", port);

	pc->pg = PQconnectdbParams(kw, val, 0);
	if (!pc->pg) {
		al_db_set_error(err, AL_DB_ERROR, "out of memory");
		goto fail;
	}
	if (PQstatus(pc->pg) != CONNECTION_OK) {
		char msg[sizeof err->message];
		one_line(msg, sizeof msg, PQerrorMessage(pc->pg));
		al_db_set_error(err, AL_DB_UNAVAILABLE, "cannot connect to PostgreSQL at %s: %s", pc->where, msg);
		goto fail;
	}
	PQsetNoticeProcessor(pc->pg, noop_notice, NULL);
	PQsetNoticeReceiver(pc->pg, on_notice, pc);
	pc->backoff_ms = PG_BACKOFF_MIN_MS;
	return pc;
fail:
	PQfinish(pc->pg);
	free(pc);
	return NULL;
}

static void pg_close(void *conn)
{
	struct pg_conn *pc = conn;
	if (!pc)
		return;
	drop_cache(pc);
	PQfinish(pc->pg);
	free(pc->key);
	free(pc->pbuf);
	free(pc->pvals);
	free(pc->plens);
	free(pc->pfmts);
	free(pc->ptypes);
	free(pc->names);
	free(pc->vals);
	free(pc->kinds);
	free(pc->rbuf);
	free(pc);
}

/* ---- statements ------------------------------------------------------------------------ */

static uint64_t fnv1a(const char *p, size_t n)
{
	uint64_t h = 14695981039346656037ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static char sig_of(enum al_db_type t)
{
	switch (t) {
	case AL_DB_BOOL:
		return 'b';
	case AL_DB_INT:
		return 'i';
	case AL_DB_FLOAT:
		return 'f';
	case AL_DB_BLOB:
		return 'x';
	case AL_DB_NULL:
	case AL_DB_TEXT:
		break;
	}
	return 'u'; /* unknown: the server infers the type */
}

static Oid oid_of_sig(char c)
{
	switch (c) {
	case 'b':
		return OID_BOOL;
	case 'i':
		return OID_INT8;
	case 'f':
		return OID_FLOAT8;
	case 'x':
		return OID_BYTEA;
	}
	return OID_UNKNOWN;
}

/* Makes the four parameter arrays hold n entries. */
static bool param_arrays(struct pg_conn *pc, size_t n)
{
	if (n <= pc->pcap && pc->pvals)
		return true;
	size_t cap = n < 16 ? 16 : n;
	const char **vals = realloc(pc->pvals, cap * sizeof *vals);
	if (vals)
		pc->pvals = vals;
	int *lens = realloc(pc->plens, cap * sizeof *lens);
	if (lens)
		pc->plens = lens;
	int *fmts = realloc(pc->pfmts, cap * sizeof *fmts);
	if (fmts)
		pc->pfmts = fmts;
	Oid *types = realloc(pc->ptypes, cap * sizeof *types);
	if (types)
		pc->ptypes = types;
	if (!vals || !lens || !fmts || !types)
		return false;
	pc->pcap = cap;
	return true;
}

/* Makes the three per-column arrays hold n entries. */
static bool column_arrays(struct pg_conn *pc, size_t n)
{
	if (n <= pc->ccap && pc->names)
		return true;
	size_t cap = n < 16 ? 16 : n;
	const char **names = realloc(pc->names, cap * sizeof *names);
	if (names)
		pc->names = names;
	struct al_db_value *vals = realloc(pc->vals, cap * sizeof *vals);
	if (vals)
		pc->vals = vals;
	enum pg_kind *kinds = realloc(pc->kinds, cap * sizeof *kinds);
	if (kinds)
		pc->kinds = kinds;
	if (!names || !vals || !kinds)
		return false;
	pc->ccap = cap;
	return true;
}

/* Fills the parameter arrays (text in pc->pbuf, BLOB bytes borrowed). */
static bool bind(struct pg_conn *pc, const struct al_db_value *params, size_t n, struct al_db_error *err)
{
	size_t text = 0;
	for (size_t i = 0; i < n; i++) {
		if ((params[i].type == AL_DB_TEXT || params[i].type == AL_DB_BLOB) && params[i].v.s.len > INT_MAX) {
			al_db_set_error(err, AL_DB_ERROR, "parameter %zu: too large", i + 1);
			return false;
		}
		if (params[i].type == AL_DB_TEXT) {
			if (params[i].v.s.len && memchr(params[i].v.s.p, '\0', params[i].v.s.len)) {
				al_db_set_error(err, AL_DB_ERROR,
						"parameter %zu: text contains a NUL byte (bind it as a blob)", i + 1);
				return false;
			}
			text += params[i].v.s.len + 1;
		} else {
			text += PG_NUM_LEN;
		}
	}
	if (!grow(&pc->pbuf, &pc->pbuf_cap, text + 1) || !param_arrays(pc, n)) {
		al_db_set_error(err, AL_DB_ERROR, "out of memory");
		return false;
	}

	char *b = pc->pbuf;
	for (size_t i = 0; i < n; i++) {
		const struct al_db_value *v = &params[i];
		pc->plens[i] = 0;
		pc->pfmts[i] = 0;
		pc->ptypes[i] = oid_of_sig(sig_of(v->type));
		pc->pvals[i] = b;
		switch (v->type) {
		case AL_DB_NULL:
			pc->pvals[i] = NULL;
			break;
		case AL_DB_BOOL:
			b += snprintf(b, PG_NUM_LEN, "%s", v->v.b ? "t" : "f") + 1;
			break;
		case AL_DB_INT:
			b += snprintf(b, PG_NUM_LEN, "%" PRId64, v->v.i) + 1;
			break;
		case AL_DB_FLOAT:
			if (isnan(v->v.f))
				b += snprintf(b, PG_NUM_LEN, "NaN") + 1;
			else if (isinf(v->v.f))
				b += snprintf(b, PG_NUM_LEN, "%s", v->v.f > 0 ? "Infinity" : "-Infinity") + 1;
			else
				b += snprintf(b, PG_NUM_LEN, "%.17g", v->v.f) + 1;
			break;
		case AL_DB_TEXT:
			if (v->v.s.len)
				memcpy(b, v->v.s.p, v->v.s.len);
			b[v->v.s.len] = '\0';
			b += v->v.s.len + 1;
			break;
		case AL_DB_BLOB:
			pc->pvals[i] = v->v.s.len ? v->v.s.p : ""; /* NULL would mean SQL NULL */
			pc->plens[i] = (int)v->v.s.len;
			pc->pfmts[i] = 1;
			break;
		default:
			al_db_set_error(err, AL_DB_ERROR, "parameter %zu: unknown type %d", i + 1, (int)v->type);
			return false;
		}
	}
	return true;
}

/* Builds the cache key of sql with these parameters into pc->key; returns its length or 0. */
static size_t make_key(struct pg_conn *pc, const char *sql, const struct al_db_value *params, size_t n)
{
	size_t len = strlen(sql);
	if (!grow(&pc->key, &pc->key_cap, len + n + 2))
		return 0;
	memcpy(pc->key, sql, len + 1);
	for (size_t i = 0; i < n; i++)
		pc->key[len + 1 + i] = sig_of(params[i].type);
	pc->key[len + 1 + n] = '\0';
	return len + n + 2;
}

static struct pg_stmt *lookup(struct pg_conn *pc, size_t keylen, uint64_t hash)
{
	for (size_t i = 0; i < pc->nstmts; i++) {
		struct pg_stmt *s = &pc->stmts[i];
		if (s->hash == hash && s->keylen == keylen && memcmp(s->key, pc->key, keylen) == 0)
			return s;
	}
	return NULL;
}

static void forget(struct pg_conn *pc, struct pg_stmt *s, bool deallocate)
{
	if (deallocate && PQstatus(pc->pg) == CONNECTION_OK) {
		char q[48];
		snprintf(q, sizeof q, "DEALLOCATE %s", s->name);
		PQclear(PQexec(pc->pg, q)); /* failure (an aborted transaction) leaves an unused name */
	}
	free(s->key);
	free(s->rewritten);
	*s = pc->stmts[--pc->nstmts];
}

/* Prepares the statement keyed by pc->key (evicting the least recently used one when full). */
static struct pg_stmt *prepare(struct pg_conn *pc, const char *sql, size_t nparams, size_t keylen, uint64_t hash,
			       PGTransactionStatusType tx, struct al_db_error *err)
{
	size_t count = rewrite_placeholders(sql, NULL);
	if (count != nparams) {
		al_db_set_error(err, AL_DB_ERROR, "the statement has %zu placeholders but %zu parameters were given",
				count, nparams);
		return NULL;
	}
	if (pc->nstmts == PG_CACHE_MAX) {
		size_t lru = 0;
		for (size_t i = 1; i < pc->nstmts; i++)
			if (pc->stmts[i].last_use < pc->stmts[lru].last_use)
				lru = i;
		forget(pc, &pc->stmts[lru], true);
	}
	struct pg_stmt *s = &pc->stmts[pc->nstmts];
	*s = (struct pg_stmt){.keylen = keylen, .hash = hash, .nparams = (int)nparams};
	s->key = malloc(keylen);
	s->rewritten = malloc(strlen(sql) + 6 * count + 1);
	if (!s->key || !s->rewritten) {
		free(s->key);
		free(s->rewritten);
		al_db_set_error(err, AL_DB_ERROR, "out of memory");
		return NULL;
	}
	memcpy(s->key, pc->key, keylen);
	rewrite_placeholders(sql, s->rewritten);
	snprintf(s->name, sizeof s->name, "al_s%" PRIu64, ++pc->next_id);

	PGresult *res = PQprepare(pc->pg, s->name, s->rewritten, (int)nparams, pc->ptypes);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fail(pc, res, tx, err);
		PQclear(res);
		free(s->key);
		free(s->rewritten);
		return NULL;
	}
	PQclear(res);
	pc->nstmts++;
	return s;
}

/* A cached statement the server no longer has, or whose result columns changed underneath it. */
static bool stale(const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	return state && (strcmp(state, "26000") == 0 || (strcmp(state, "0A000") == 0 && msg &&
							 strstr(msg, "cached plan must not change result type")));
}

/* ---- results --------------------------------------------------------------------------- */

static enum pg_kind kind_of(Oid t)
{
	switch (t) {
	case OID_BOOL:
		return K_BOOL;
	case OID_INT8:
	case OID_INT2:
	case OID_INT4:
	case OID_OID:
		return K_INT;
	case OID_FLOAT4:
	case OID_FLOAT8:
		return K_FLOAT;
	case OID_NUMERIC:
		return K_NUMERIC;
	case OID_BYTEA:
		return K_BYTEA;
	case OID_TIMESTAMP:
	case OID_TIMESTAMPTZ:
		return K_TIME;
	}
	return K_TEXT;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 0; /* the server sends only hex digits; anything else reads as 0, never a negative shift */
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* "2026-12-04 16:26:10.123456+00" (DateStyle ISO; timestamp has no offset) into
 * "2026-12-04T16:26:10.123Z" (fraction truncated to milliseconds). Returns false for values
 * RFC 3339 cannot hold (infinity, BC, years past 9999), which then stay text as sent. */
static bool format_time(const char *s, size_t len, char *out)
{
	if (len < 19 || !all_digits(s, 4) || s[4] != '-' || !all_digits(s + 5, 2) || s[7] != '-' ||
	    !all_digits(s + 8, 2) || s[10] != ' ' || !all_digits(s + 11, 2) || s[13] != ':' || !all_digits(s + 14, 2) ||
	    s[16] != ':' || !all_digits(s + 17, 2))
		return false;
	size_t i = 19;
	char ms[4] = "000";
	if (i < len && s[i] == '.') {
		for (int k = 0; ++i < len && s[i] >= '0' && s[i] <= '9'; k++)
			if (k < 3)
				ms[k] = s[i];
	}
	int sign = 0, off[3] = {0, 0, 0};
	if (i < len && (s[i] == '+' || s[i] == '-')) {
		sign = s[i++] == '+' ? 1 : -1;
		for (int k = 0; k < 3; k++) { /* +HH[:MM[:SS]] */
			if (k > 0 && !(i < len && s[i] == ':'))
				break;
			if (k > 0)
				i++;
			if (i + 2 > len || !all_digits(s + i, 2))
				return false;
			off[k] = (s[i] - '0') * 10 + (s[i + 1] - '0');
			i += 2;
		}
	}
	if (i != len)
		return false; /* " BC" or something unexpected */
	int off_s = sign * (off[0] * 3600 + off[1] * 60 + off[2]);
	if (off_s == 0) {
		snprintf(out, PG_TIME_LEN, "%.10sT%.8s.%sZ", s, s + 11, ms);
		return true;
	}
	char z[32];
	int64_t us;
	snprintf(z, sizeof z, "%.10sT%.8s.%sZ", s, s + 11, ms);
	if (!al_rfc3339_parse(z, strlen(z), &us))
		return false;
	us -= (int64_t)off_s * 1000000;
	if (us < -62135596800000000LL || us >= 253402300800000000LL) /* outside years 1..9999 */
		return false;
	return al_rfc3339(us, out, PG_TIME_LEN) > 0;
}

/* Converts one field; scratch has room for this field's decoded form. Returns bytes of scratch used. */
static size_t convert(enum pg_kind kind, const char *s, size_t len, char *scratch, struct al_db_value *v)
{
	char *end;
	switch (kind) {
	case K_BOOL:
		*v = (struct al_db_value){.type = AL_DB_BOOL, .v.b = s[0] == 't'};
		return 0;
	case K_INT:
		*v = (struct al_db_value){.type = AL_DB_INT, .v.i = strtoll(s, NULL, 10)};
		return 0;
	case K_NUMERIC: {
		/* INT when written without a fraction and within int64; FLOAT otherwise (NaN, 1.50, 1e30). */
		size_t d = s[0] == '-';
		if (len > d && all_digits(s + d, len - d)) {
			errno = 0;
			long long i = strtoll(s, &end, 10);
			if (errno == 0 && *end == '\0') {
				*v = (struct al_db_value){.type = AL_DB_INT, .v.i = i};
				return 0;
			}
		}
	}
		/* fall through */
	case K_FLOAT:
		*v = (struct al_db_value){.type = AL_DB_FLOAT, .v.f = strtod(s, NULL)};
		return 0;
	case K_BYTEA:
		if (len >= 2 && s[0] == '\\' && s[1] == 'x') {
			size_t n = (len - 2) / 2;
			for (size_t i = 0; i < n; i++)
				scratch[i] = (char)(hexval(s[2 + 2 * i]) << 4 | hexval(s[3 + 2 * i]));
			*v = (struct al_db_value){.type = AL_DB_BLOB, .v.s = {scratch, n}};
			return n;
		}
		*v = (struct al_db_value){.type = AL_DB_BLOB, .v.s = {s, len}};
		return 0;
	case K_TIME:
		if (format_time(s, len, scratch)) {
			*v = (struct al_db_value){.type = AL_DB_TEXT, .v.s = {scratch, strlen(scratch)}};
			return PG_TIME_LEN;
		}
		break;
	case K_TEXT:
		break;
	}
	*v = (struct al_db_value){.type = AL_DB_TEXT, .v.s = {s, len}};
	return 0;
}

static bool deliver(struct pg_conn *pc, const PGresult *res, al_db_row_fn row_fn, void *ud, struct al_db_error *err)
{
	int nrows = PQntuples(res), ncols = PQnfields(res);
	if (!row_fn || nrows == 0)
		return true;
	if (!column_arrays(pc, (size_t)ncols))
		goto oom;
	for (int c = 0; c < ncols; c++) {
		pc->names[c] = PQfname(res, c);
		pc->kinds[c] = kind_of(PQftype(res, c));
	}
	for (int r = 0; r < nrows; r++) {
		size_t need = 1;
		for (int c = 0; c < ncols; c++) {
			if (pc->kinds[c] == K_BYTEA)
				need += (size_t)PQgetlength(res, r, c) / 2;
			else if (pc->kinds[c] == K_TIME)
				need += PG_TIME_LEN;
		}
		if (!grow(&pc->rbuf, &pc->rbuf_cap, need))
			goto oom;
		char *scratch = pc->rbuf;
		for (int c = 0; c < ncols; c++) {
			if (PQgetisnull(res, r, c))
				pc->vals[c] = (struct al_db_value){.type = AL_DB_NULL};
			else
				scratch += convert(pc->kinds[c], PQgetvalue(res, r, c), (size_t)PQgetlength(res, r, c),
						   scratch, &pc->vals[c]);
		}
		if (row_fn(ud, (size_t)ncols, pc->names, pc->vals) != 0) {
			al_db_set_error(err, AL_DB_ERROR, "aborted by caller");
			return false;
		}
	}
	return true;
oom:
	al_db_set_error(err, AL_DB_ERROR, "out of memory");
	return false;
}

/* Rows written by INSERT/UPDATE/DELETE/MERGE (with or without RETURNING); 0 for anything else. */
static int64_t changes_of(PGresult *res)
{
	const char *status = PQcmdStatus(res);
	if (strncmp(status, "INSERT ", 7) && strncmp(status, "UPDATE ", 7) && strncmp(status, "DELETE ", 7) &&
	    strncmp(status, "MERGE ", 6))
		return 0;
	return strtoll(PQcmdTuples(res), NULL, 10);
}

/* ---- the driver ------------------------------------------------------------------------ */

static bool pg_exec(void *conn, const char *sql, const struct al_db_value *params, size_t nparams, al_db_row_fn row_fn,
		    void *ud, int64_t *changes, struct al_db_error *err)
{
	struct pg_conn *pc = conn;
	int go = begin_call(pc, sql, err);
	if (go <= 0)
		return go == 0;
	if (nparams > PG_MAX_PARAMS) {
		al_db_set_error(err, AL_DB_ERROR, "too many parameters (%zu, at most %d)", nparams, PG_MAX_PARAMS);
		return false;
	}
	if (!bind(pc, params, nparams, err))
		return false;
	size_t keylen = make_key(pc, sql, params, nparams);
	if (!keylen) {
		al_db_set_error(err, AL_DB_ERROR, "out of memory");
		return false;
	}
	uint64_t hash = fnv1a(pc->key, keylen);
	PGTransactionStatusType tx = PQtransactionStatus(pc->pg);
	struct pg_stmt *s = lookup(pc, keylen, hash);
	PGresult *res;

	for (int attempt = 0;; attempt++) {
		if (!s && !(s = prepare(pc, sql, nparams, keylen, hash, tx, err)))
			return false;
		s->last_use = ++pc->use_clock;
		res = PQexecPrepared(pc->pg, s->name, (int)nparams, pc->pvals, pc->plens, pc->pfmts, 0);
		ExecStatusType st = PQresultStatus(res);
		if (res && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK || st == PGRES_EMPTY_QUERY))
			break;
		/* Prepare once more, unless inside a transaction, which the error has aborted. */
		if (attempt == 0 && res && stale(res) && PQtransactionStatus(pc->pg) == PQTRANS_IDLE) {
			PQclear(res);
			forget(pc, s, true);
			s = NULL;
			continue;
		}
		fail(pc, res, tx, err);
		PQclear(res);
		return false;
	}
	bool ok = deliver(pc, res, row_fn, ud, err);
	if (ok && changes)
		*changes = changes_of(res);
	PQclear(res);
	return ok;
}

static bool pg_exec_script(void *conn, const char *sql, struct al_db_error *err)
{
	struct pg_conn *pc = conn;
	int go = begin_call(pc, NULL, err);
	if (go <= 0)
		return go == 0;
	PGTransactionStatusType tx = PQtransactionStatus(pc->pg);
	PGresult *res = PQexec(pc->pg, sql);
	ExecStatusType st = PQresultStatus(res);
	bool ok = res && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY);
	if (!ok)
		fail(pc, res, tx, err);
	PQclear(res);
	return ok;
}

static void pg_reset_cache(void *conn)
{
	struct pg_conn *pc = conn;
	/* Refused in an aborted transaction; harmless, since statement names are never reused. */
	if (!pc->lost && PQstatus(pc->pg) == CONNECTION_OK)
		PQclear(PQexec(pc->pg, "DEALLOCATE ALL"));
	drop_cache(pc);
}

const struct al_db_driver al_db_postgres_driver = {
    .name = "postgres",
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .exec_script = pg_exec_script,
    .reset_cache = pg_reset_cache,
};
