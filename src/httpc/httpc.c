/* SPDX-License-Identifier: Apache-2.0 */
/* libcurl client: per-thread easy handles, curl multi batches, manual redirects, SSRF guard. */
#include "httpc/httpc.h"

#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "core/clock.h"

#define MAX_URL_LEN 8192
#define USER_AGENT "agentlens/" AL_VERSION

static const char *const code_names[] = {
	[AL_HTTPC_OK] = "ok",
	[AL_HTTPC_TIMEOUT] = "timeout",
	[AL_HTTPC_CONNREFUSED] = "connection refused",
	[AL_HTTPC_DNS] = "dns",
	[AL_HTTPC_TLS] = "tls",
	[AL_HTTPC_TOO_LARGE] = "too large",
	[AL_HTTPC_REFUSED] = "refused",
	[AL_HTTPC_REDIRECTS] = "too many redirects",
	[AL_HTTPC_BAD_URL] = "bad url",
	[AL_HTTPC_NOT_JSON] = "not json",
	[AL_HTTPC_ERROR] = "error",
	[AL_HTTPC_STOPPED] = "stopped",
	[AL_HTTPC_CALLBACK] = "callback",
};

const char *al_httpc_code_name(enum al_httpc_code code)
{
	return (unsigned)code < sizeof code_names / sizeof code_names[0] ? code_names[code] : "error";
}

/* ---- the operator's allow list ------------------------------------------------------------ */

static struct al_netlist allowed = AL_NETLIST_INIT;
static atomic_bool initialised;
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

bool al_httpc_init(const char *allowed_networks, char *err, size_t errlen)
{
	struct al_netlist list;
	if (!al_netlist_parse(allowed_networks, &list, err, errlen))
		return false;
	pthread_mutex_lock(&init_lock);
	al_netlist_free(&allowed); /* only before threads use it (see httpc.h) */
	allowed = list;
	atomic_store(&initialised, true);
	pthread_mutex_unlock(&init_lock);
	return true;
}

bool al_httpc_ensure_init(const char *allowed_networks, char *err, size_t errlen)
{
	if (atomic_load(&initialised))
		return true;
	pthread_mutex_lock(&init_lock);
	bool ok = true;
	if (!atomic_load(&initialised)) {
		curl_global_init(CURL_GLOBAL_DEFAULT); /* reference-counted; a no-op after main's call */
		ok = al_netlist_parse(allowed_networks, &allowed, err, errlen);
		if (ok)
			atomic_store(&initialised, true);
	}
	pthread_mutex_unlock(&init_lock);
	return ok;
}

const struct al_netlist *al_httpc_allowed_networks(void)
{
	return &allowed;
}

/* ---- one transfer (all its hops) ----------------------------------------------------------- */

struct xfer {
	const struct al_httpc_request *req;
	struct al_httpc_response *resp;
	CURL *easy;
	const struct al_netlist *allow;
	char *url; /* the current hop */
	char origin[512]; /* of the first URL: credentials are not sent elsewhere */
	const char *method;
	bool send_body, cross_origin, no_reuse;
	int64_t start_ns, deadline_ns;
	int64_t timeout_ms, connect_timeout_ms;
	size_t max_bytes;
	int max_redirects;
	struct curl_slist *hdrs;
	/* per hop */
	struct al_buf body;
	struct al_httpc_header *h;
	size_t nh, caph, header_bytes;
	long status;
	bool body_started;
	/* streams (al_httpc_stream) */
	bool streaming;
	struct al_buf pending; /* received, not yet handed to the chunk callback */
	size_t streamed;       /* body bytes of the whole stream */
	uint64_t rx;           /* bytes received (headers and body): the idle timer's progress */
	enum al_httpc_code abort_code; /* set by a callback that stopped the transfer */
	char abort_msg[256];
	char refused[256]; /* the first address the guard refused */
	char errbuf[CURL_ERROR_SIZE];
};

static bool fail(struct xfer *x, enum al_httpc_code code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Records the outcome "<code name>: <detail>" in the response; returns false for chaining. */
static bool fail(struct xfer *x, enum al_httpc_code code, const char *fmt, ...)
{
	char detail[448];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	x->resp->code = code;
	snprintf(x->resp->error, sizeof x->resp->error, "%s: %s", al_httpc_code_name(code), detail);
	return false;
}

static void free_headers(struct al_httpc_header *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
}

static void hop_reset(struct xfer *x)
{
	al_buf_free(&x->body);
	free_headers(x->h, x->nh);
	x->h = NULL;
	x->nh = x->caph = x->header_bytes = 0;
	x->status = 0;
	x->body_started = false;
	al_buf_free(&x->pending);
	x->abort_code = AL_HTTPC_OK;
	x->abort_msg[0] = x->refused[0] = x->errbuf[0] = '\0';
}

static size_t stop(struct xfer *x, enum al_httpc_code code, const char *msg)
{
	x->abort_code = code;
	snprintf(x->abort_msg, sizeof x->abort_msg, "%s", msg);
	return 0; /* curl ends the transfer with CURLE_WRITE_ERROR */
}

static const char *find_header(const struct xfer *x, const char *name)
{
	for (size_t i = x->nh; i-- > 0;)
		if (strcmp(x->h[i].name, name) == 0)
			return x->h[i].value;
	return NULL;
}

/* application/json, or any type/subtype+json, parameters ignored. */
static bool is_json_type(const char *ct)
{
	if (!ct)
		return false;
	size_t len = strcspn(ct, "; \t");
	if (len == 16 && strncasecmp(ct, "application/json", 16) == 0)
		return true;
	return len > 5 && memchr(ct, '/', len) && strncasecmp(ct + len - 5, "+json", 5) == 0;
}

static bool is_redirect(long status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * nmemb;
	x->rx += len;
	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		/* a new response (after 100 Continue, for example): forget the previous one's headers */
		free_headers(x->h, x->nh);
		x->h = NULL;
		x->nh = x->caph = x->header_bytes = 0;
		const char *sp = memchr(data, ' ', len);
		x->status = sp && (size_t)(sp - data) + 4 <= len ? strtol(sp + 1, NULL, 10) : 0;
	}
	x->header_bytes += len;
	if (x->header_bytes > AL_HTTPC_MAX_HEADER_BYTES) {
		char msg[96];
		snprintf(msg, sizeof msg, "response headers larger than %d bytes", AL_HTTPC_MAX_HEADER_BYTES);
		return stop(x, AL_HTTPC_TOO_LARGE, msg);
	}
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	if (len == 0 || (len >= 5 && memcmp(data, "HTTP/", 5) == 0))
		return size * nmemb;
	if ((data[0] == ' ' || data[0] == '\t') && x->nh > 0) { /* obsolete line folding */
		struct al_httpc_header *last = &x->h[x->nh - 1];
		size_t old = strlen(last->value);
		char *v = realloc(last->value, old + len + 1);
		if (!v)
			return stop(x, AL_HTTPC_ERROR, "out of memory");
		memcpy(v + old, data, len);
		v[old + len] = '\0';
		last->value = v;
		return size * nmemb;
	}
	const char *colon = memchr(data, ':', len);
	if (!colon || colon == data)
		return size * nmemb;
	if (x->nh == x->caph) {
		size_t cap = x->caph ? x->caph * 2 : 16;
		struct al_httpc_header *h = realloc(x->h, cap * sizeof *h);
		if (!h)
			return stop(x, AL_HTTPC_ERROR, "out of memory");
		x->h = h;
		x->caph = cap;
	}
	size_t nlen = (size_t)(colon - data);
	const char *v = colon + 1, *end = data + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	char *name = strndup(data, nlen), *value = strndup(v, (size_t)(end - v));
	if (!name || !value) {
		free(name);
		free(value);
		return stop(x, AL_HTTPC_ERROR, "out of memory");
	}
	for (char *p = name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	x->h[x->nh++] = (struct al_httpc_header){name, value};
	return size * nmemb;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * nmemb;
	char msg[160];
	if (!x->body_started) {
		x->body_started = true;
		/* Refuse a non-JSON body before reading it (a redirect's body is never used). */
		if (x->req->json_only && !is_redirect(x->status) && !is_json_type(find_header(x, "content-type"))) {
			snprintf(msg, sizeof msg, "Content-Type is %.60s, not JSON (status %ld)",
				 find_header(x, "content-type") ? find_header(x, "content-type") : "missing", x->status);
			return stop(x, AL_HTTPC_NOT_JSON, msg);
		}
	}
	x->rx += len;
	if (x->streaming) {
		if (is_redirect(x->status))
			return len; /* never used */
		if (len > x->max_bytes - x->streamed) {
			snprintf(msg, sizeof msg, "stream larger than %zu bytes", x->max_bytes);
			return stop(x, AL_HTTPC_TOO_LARGE, msg);
		}
		if (!al_buf_append(&x->pending, data, len))
			return stop(x, AL_HTTPC_ERROR, "out of memory");
		x->streamed += len;
		return len;
	}
	if (len > x->max_bytes - x->body.len) {
		snprintf(msg, sizeof msg, "response larger than %zu bytes", x->max_bytes);
		return stop(x, AL_HTTPC_TOO_LARGE, msg);
	}
	if (!al_buf_append(&x->body, data, len))
		return stop(x, AL_HTTPC_ERROR, "out of memory");
	return len;
}

/* Every connection curl opens comes through here with the address it is about to use, after
 * DNS resolution: the only place where the SSRF check cannot be dodged by DNS rebinding. */
static curl_socket_t on_open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct xfer *x = ud;
	char why[200];
	if (x->req->ssrf_guard && al_ssrf_explain(&a->addr, x->allow, why, sizeof why)) {
		if (!x->refused[0])
			snprintf(x->refused, sizeof x->refused, "%s", why);
		return CURL_SOCKET_BAD; /* curl tries the next address, if any */
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* Checks that url is an absolute http(s) URL; fills origin ("scheme://host:port") when given. */
static bool check_url(struct xfer *x, const char *url, char *origin, size_t originlen)
{
	if (!url || !*url)
		return fail(x, AL_HTTPC_BAD_URL, "the URL is empty");
	if (strlen(url) > MAX_URL_LEN)
		return fail(x, AL_HTTPC_BAD_URL, "the URL is longer than %d bytes", MAX_URL_LEN);
	CURLU *u = curl_url();
	if (!u)
		return fail(x, AL_HTTPC_ERROR, "out of memory");
	char *scheme = NULL, *host = NULL, *port = NULL;
	bool ok = false;
	CURLUcode rc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
	if (rc != CURLUE_OK) {
		fail(x, AL_HTTPC_BAD_URL, "%.200s: %s", url, curl_url_strerror(rc));
	} else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
		   (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
		fail(x, AL_HTTPC_BAD_URL, "%.200s: only http and https URLs are allowed", url);
	} else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
		fail(x, AL_HTTPC_BAD_URL, "%.200s: no host", url);
	} else if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		fail(x, AL_HTTPC_BAD_URL, "%.200s: bad port", url);
	} else {
		if (origin)
			snprintf(origin, originlen, "%s://%s:%s", scheme, host, port);
		ok = true;
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return ok;
}

static bool is_credential_header(const char *line)
{
	static const char *const names[] = {"authorization:", "cookie:", "proxy-authorization:"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strncasecmp(line, names[i], strlen(names[i])) == 0)
			return true;
	return false;
}

/* The request's header lines; credentials are dropped once a redirect left the first origin. */
static bool build_headers(struct xfer *x)
{
	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
	for (size_t i = 0; i <= x->req->nheaders; i++) {
		const char *line = i < x->req->nheaders ? x->req->headers[i] : "Expect:"; /* no 100-continue */
		if (x->cross_origin && is_credential_header(line))
			continue;
		struct curl_slist *l = curl_slist_append(x->hdrs, line);
		if (!l)
			return fail(x, AL_HTTPC_ERROR, "out of memory");
		x->hdrs = l;
	}
	return true;
}

/* "Name: value", or "Name;" for an empty value (curl's syntax; "Name:" would remove it). */
static bool valid_header_line(const char *line)
{
	size_t n = strcspn(line, ":;");
	if (n == 0 || !line[n] || (line[n] == ';' && line[n + 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)line[i]) && !strchr("!#$%&'*+-.^_`|~", line[i]))
			return false;
	return strpbrk(line + n, "\r\n") == NULL;
}

static int64_t ms_left(const struct xfer *x)
{
	return (x->deadline_ns - al_monotonic_ns()) / 1000000;
}

/* Sets up a transfer; false (resp filled) when the request cannot start. */
static bool xfer_begin(struct xfer *x, const struct al_httpc_request *req, struct al_httpc_response *resp,
		       CURL *easy, bool streaming)
{
	*x = (struct xfer){.req = req, .resp = resp, .easy = easy, .streaming = streaming};
	memset(resp, 0, sizeof *resp);
	x->start_ns = al_monotonic_ns();
	/* a stream has no total limit and no size cap unless asked for */
	x->timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : streaming ? 0 : AL_HTTPC_DEFAULT_TIMEOUT_MS;
	x->connect_timeout_ms = req->connect_timeout_ms > 0 ? req->connect_timeout_ms : AL_HTTPC_DEFAULT_CONNECT_TIMEOUT_MS;
	x->deadline_ns = x->timeout_ms > 0 ? x->start_ns + x->timeout_ms * 1000000 : INT64_MAX;
	x->max_bytes = req->max_bytes > 0 ? req->max_bytes : streaming ? SIZE_MAX : AL_HTTPC_DEFAULT_MAX_BYTES;
	x->max_redirects = req->max_redirects >= 0 ? req->max_redirects : AL_HTTPC_DEFAULT_MAX_REDIRECTS;
	x->allow = req->allow;
	x->method = req->method ? req->method : "GET";
	if (strcmp(x->method, "GET") != 0 && strcmp(x->method, "HEAD") != 0 && strcmp(x->method, "POST") != 0)
		return fail(x, AL_HTTPC_ERROR, "method %.20s is not supported (GET, HEAD, POST)", x->method);
	x->send_body = strcmp(x->method, "POST") == 0;
	for (size_t i = 0; i < req->nheaders; i++)
		if (!valid_header_line(req->headers[i]))
			return fail(x, AL_HTTPC_ERROR, "invalid request header line \"%.60s\"", req->headers[i]);
	if (!easy)
		return fail(x, AL_HTTPC_ERROR, "cannot create a curl handle");
	if (!check_url(x, req->url, x->origin, sizeof x->origin) || !build_headers(x))
		return false;
	if (!(x->url = strdup(req->url)))
		return fail(x, AL_HTTPC_ERROR, "out of memory");
	return true;
}

#define SET(opt, val) (rc = rc ? rc : curl_easy_setopt(x->easy, opt, val))

/* Prepares x->easy for the current hop; false (resp filled) when it cannot start. */
static bool hop_setup(struct xfer *x)
{
	hop_reset(x);
	int64_t left = ms_left(x);
	if (left <= 0)
		return fail(x, AL_HTTPC_TIMEOUT, "no complete response within %lld ms", (long long)x->timeout_ms);
	int64_t connect_ms = x->connect_timeout_ms < left ? x->connect_timeout_ms : left;
	curl_easy_reset(x->easy);
	CURLcode rc = CURLE_OK;
	SET(CURLOPT_URL, x->url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L); /* manual, so that each hop is checked */
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TIMEOUT_MS, x->timeout_ms > 0 ? (long)left : 0L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)connect_ms);
	SET(CURLOPT_PROXY, ""); /* never an environment proxy: the guard must see the real peer */
	SET(CURLOPT_ERRORBUFFER, x->errbuf);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, x);
	SET(CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
	SET(CURLOPT_OPENSOCKETDATA, x);
	SET(CURLOPT_PRIVATE, x);
	SET(CURLOPT_ACCEPT_ENCODING, ""); /* the size cap applies to the decoded body */
	SET(CURLOPT_USERAGENT, USER_AGENT);
	SET(CURLOPT_HTTPHEADER, x->hdrs);
	SET(CURLOPT_SSL_VERIFYPEER, x->req->insecure_tls ? 0L : 1L);
	SET(CURLOPT_SSL_VERIFYHOST, x->req->insecure_tls ? 0L : 2L);
	if (x->req->ca_file && x->req->ca_file[0])
		SET(CURLOPT_CAINFO, x->req->ca_file);
	if (x->req->cert_file && x->req->cert_file[0])
		SET(CURLOPT_SSLCERT, x->req->cert_file);
	if (x->req->key_file && x->req->key_file[0])
		SET(CURLOPT_SSLKEY, x->req->key_file);
	if (strcmp(x->method, "HEAD") == 0) {
		SET(CURLOPT_NOBODY, 1L);
	} else {
		if (x->max_bytes != SIZE_MAX) /* early stop on Content-Length */
			SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max_bytes);
		if (x->send_body) {
			SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(x->req->body ? x->req->body_len : 0));
			SET(CURLOPT_POSTFIELDS, x->req->body ? x->req->body : "");
		} else {
			SET(CURLOPT_HTTPGET, 1L);
		}
	}
	if (x->no_reuse) {
		SET(CURLOPT_FRESH_CONNECT, 1L);
		SET(CURLOPT_FORBID_REUSE, 1L);
	}
	if (rc != CURLE_OK)
		return fail(x, AL_HTTPC_ERROR, "curl option: %s", curl_easy_strerror(rc));
	return true;
}

static bool is_tls_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CLIENTCERT:
	case CURLE_USE_SSL_FAILED:
		return true;
	default:
		return false;
	}
}

static bool curl_failure(struct xfer *x, CURLcode rc)
{
	const char *why = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		if (x->timeout_ms == 0)
			return fail(x, AL_HTTPC_TIMEOUT, "%s", why); /* the connect timeout of a stream */
		return fail(x, AL_HTTPC_TIMEOUT, "no complete response within %lld ms (%s)", (long long)x->timeout_ms,
			    why);
	case CURLE_COULDNT_RESOLVE_HOST:
		return fail(x, AL_HTTPC_DNS, "%s", why);
	case CURLE_COULDNT_CONNECT:
		if (x->refused[0])
			return fail(x, AL_HTTPC_REFUSED, "%s", x->refused);
		return fail(x, AL_HTTPC_CONNREFUSED, "%s", why);
	case CURLE_FILESIZE_EXCEEDED:
		return fail(x, AL_HTTPC_TOO_LARGE, "response larger than %zu bytes", x->max_bytes);
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return fail(x, AL_HTTPC_BAD_URL, "%s", why);
	default:
		if (is_tls_error(rc))
			return fail(x, AL_HTTPC_TLS, "%s", why);
		return fail(x, AL_HTTPC_ERROR, "%s", why);
	}
}

/* Follows a redirect: next URL, method and credentials. False (resp filled) when it may not. */
static bool follow(struct xfer *x, const char *location)
{
	if (x->resp->redirects >= x->max_redirects)
		return fail(x, AL_HTTPC_REDIRECTS, "more than %d redirect%s (last to %.200s)", x->max_redirects,
			    x->max_redirects == 1 ? "" : "s", location);
	char origin[512];
	if (!check_url(x, location, origin, sizeof origin))
		return false;
	char *next = strdup(location);
	if (!next)
		return fail(x, AL_HTTPC_ERROR, "out of memory");
	free(x->url);
	x->url = next;
	x->resp->redirects++;
	/* 303 always, and 301/302 after a POST (as browsers do), continue as GET without the body. */
	if (x->status == 303 || (x->send_body && (x->status == 301 || x->status == 302))) {
		if (strcmp(x->method, "HEAD") != 0)
			x->method = "GET";
		x->send_body = false;
	}
	if (!x->cross_origin && strcmp(origin, x->origin) != 0) {
		x->cross_origin = true;
		return build_headers(x);
	}
	return true;
}

/* After a hop: true when another hop must run (a redirect was accepted); otherwise the outcome is
 * in resp. */
static bool hop_finish(struct xfer *x, CURLcode rc)
{
	if (x->abort_code != AL_HTTPC_OK) {
		fail(x, x->abort_code, "%s", x->abort_msg);
		return false;
	}
	if (rc != CURLE_OK) {
		curl_failure(x, rc);
		return false;
	}
	long status = 0;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	x->status = status;
	char *location = NULL;
	if (is_redirect(status) && curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &location) == CURLE_OK &&
	    location)
		return follow(x, location);
	const char *ctype = find_header(x, "content-type");
	if (x->req->json_only && !is_json_type(ctype)) {
		fail(x, AL_HTTPC_NOT_JSON, "Content-Type is %.60s, not JSON (status %ld)", ctype ? ctype : "missing",
		     status);
		return false;
	}
	char *eff = NULL;
	curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &eff);
	struct al_httpc_response *r = x->resp;
	r->body = al_buf_steal(&x->body, &r->body_len);
	r->url = strdup(eff ? eff : x->url);
	if (!r->body || !r->url) {
		free(r->body);
		free(r->url);
		r->body = r->url = NULL;
		r->body_len = 0;
		fail(x, AL_HTTPC_ERROR, "out of memory");
		return false;
	}
	r->status = status;
	r->headers = x->h;
	r->nheaders = x->nh;
	x->h = NULL;
	x->nh = x->caph = 0;
	r->code = AL_HTTPC_OK;
	return false;
}

static void xfer_end(struct xfer *x)
{
	hop_reset(x);
	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
	free(x->url);
	x->url = NULL;
	x->resp->duration_ms = (double)(al_monotonic_ns() - x->start_ns) / 1e6;
}

/* ---- single requests on the thread's handle ------------------------------------------------ */

/* A guarded and an unguarded handle per thread: a connection opened without the guard must never
 * be reused by a guarded request (curl reuses connections by host and port). */
struct thread_handles {
	CURL *guarded, *open;
	const struct al_netlist *guarded_allow;
};

static pthread_key_t handles_key;
static pthread_once_t handles_once = PTHREAD_ONCE_INIT;

static void close_handles(void *p)
{
	struct thread_handles *t = p;
	if (!t)
		return;
	curl_easy_cleanup(t->guarded);
	curl_easy_cleanup(t->open);
	free(t);
}

static void make_key(void)
{
	pthread_key_create(&handles_key, close_handles);
}

static CURL *thread_handle(const struct al_httpc_request *req)
{
	pthread_once(&handles_once, make_key);
	struct thread_handles *t = pthread_getspecific(handles_key);
	if (!t) {
		if (!(t = calloc(1, sizeof *t)))
			return NULL;
		pthread_setspecific(handles_key, t);
	}
	if (!req->ssrf_guard)
		return t->open ? t->open : (t->open = curl_easy_init());
	if (t->guarded && t->guarded_allow != req->allow) {
		curl_easy_cleanup(t->guarded); /* connections checked against another allow list */
		t->guarded = NULL;
	}
	t->guarded_allow = req->allow;
	return t->guarded ? t->guarded : (t->guarded = curl_easy_init());
}

void al_httpc_thread_close(void)
{
	pthread_once(&handles_once, make_key);
	close_handles(pthread_getspecific(handles_key));
	pthread_setspecific(handles_key, NULL);
}

bool al_httpc_fetch(const struct al_httpc_request *req, struct al_httpc_response *resp)
{
	struct xfer x;
	if (xfer_begin(&x, req, resp, thread_handle(req), false)) {
		while (hop_setup(&x) && hop_finish(&x, curl_easy_perform(x.easy)))
			;
	}
	xfer_end(&x);
	return resp->code == AL_HTTPC_OK;
}

/* ---- batches ------------------------------------------------------------------------------- */

static bool same_guard(const struct al_httpc_request *a, const struct al_httpc_request *b)
{
	return a->ssrf_guard == b->ssrf_guard && (!a->ssrf_guard || a->allow == b->allow);
}

/* Starts the next pending request (from *next) on slot x; false when none is left to start. */
static bool start_next(CURLM *multi, struct xfer *x, CURL *easy, const struct al_httpc_request *reqs, size_t n,
		       struct al_httpc_response *resps, size_t *next, bool no_reuse)
{
	while (*next < n) {
		size_t i = (*next)++;
		if (xfer_begin(x, &reqs[i], &resps[i], easy, false)) {
			x->no_reuse = no_reuse;
			if (hop_setup(x)) {
				CURLMcode mc = curl_multi_add_handle(multi, easy);
				if (mc == CURLM_OK)
					return true;
				fail(x, AL_HTTPC_ERROR, "curl multi: %s", curl_multi_strerror(mc));
			}
		}
		xfer_end(x);
	}
	return false;
}

static void fail_all(const struct al_httpc_request *reqs, size_t n, struct al_httpc_response *resps)
{
	for (size_t i = 0; i < n; i++) {
		struct xfer x;
		xfer_begin(&x, &reqs[i], &resps[i], NULL, false); /* fills "cannot create a curl handle" */
		xfer_end(&x);
	}
}

void al_httpc_fetch_many(const struct al_httpc_request *reqs, size_t n, struct al_httpc_response *resps,
			 size_t concurrency)
{
	if (n == 0)
		return;
	if (concurrency < 1)
		concurrency = 1;
	if (concurrency > n)
		concurrency = n;
	/* One multi handle shares one connection pool: with mixed guards, no connection is shared. */
	bool no_reuse = false;
	for (size_t i = 1; i < n && !no_reuse; i++)
		no_reuse = !same_guard(&reqs[0], &reqs[i]);
	CURLM *multi = curl_multi_init();
	struct xfer *slots = calloc(concurrency, sizeof *slots);
	CURL **easy = calloc(concurrency, sizeof *easy);
	bool ok = multi && slots && easy;
	for (size_t s = 0; ok && s < concurrency; s++)
		ok = (easy[s] = curl_easy_init()) != NULL;
	if (!ok) {
		fail_all(reqs, n, resps);
		goto done;
	}
	size_t next = 0, active = 0;
	for (size_t s = 0; s < concurrency; s++)
		active += start_next(multi, &slots[s], easy[s], reqs, n, resps, &next, no_reuse);
	while (active > 0) {
		int running;
		CURLMcode mc = curl_multi_perform(multi, &running);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(multi, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			CURL *e = msg->easy_handle;
			CURLcode rc = msg->data.result;
			char *priv = NULL;
			curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
			struct xfer *x = (struct xfer *)(void *)priv;
			curl_multi_remove_handle(multi, e);
			if (hop_finish(x, rc)) {
				if (hop_setup(x) && curl_multi_add_handle(multi, e) == CURLM_OK)
					continue;
				if (x->resp->code == AL_HTTPC_OK)
					fail(x, AL_HTTPC_ERROR, "curl multi: cannot add a handle");
			}
			xfer_end(x);
			active--;
			active += start_next(multi, x, e, reqs, n, resps, &next, no_reuse);
		}
		if (mc != CURLM_OK) {
			/* the multi handle is unusable: finish what is in flight as errors */
			for (size_t s = 0; s < concurrency; s++) {
				if (slots[s].url) {
					curl_multi_remove_handle(multi, easy[s]);
					fail(&slots[s], AL_HTTPC_ERROR, "curl multi: %s", curl_multi_strerror(mc));
					xfer_end(&slots[s]);
				}
			}
			while (next < n) {
				fail_all(&reqs[next], 1, &resps[next]);
				next++;
			}
			break;
		}
		if (active > 0)
			curl_multi_poll(multi, NULL, 0, 1000, NULL);
	}
done:
	for (size_t s = 0; easy && s < concurrency; s++)
		curl_easy_cleanup(easy[s]);
	free(easy);
	free(slots);
	curl_multi_cleanup(multi);
}

void al_httpc_response_free(struct al_httpc_response *resp)
{
	if (!resp)
		return;
	free(resp->body);
	free(resp->url);
	free_headers(resp->headers, resp->nheaders);
	resp->body = resp->url = NULL;
	resp->headers = NULL;
	resp->nheaders = resp->body_len = 0;
}

/* ---- streams ------------------------------------------------------------------------------- */

static _Thread_local bool (*stop_check)(void *ud);
static _Thread_local void *stop_check_ud;

void al_httpc_thread_set_stop_check(bool (*check)(void *ud), void *ud)
{
	stop_check = check;
	stop_check_ud = ud;
}

bool al_httpc_thread_should_stop(void)
{
	return stop_check && stop_check(stop_check_ud);
}

#define STREAM_POLL_MS 100 /* how often a stream looks at its stop check and idle timer */

/* Runs the current hop of a stream on multi until it ends; returns curl's result for it (the
 * outcome of an early end is in x->abort_code). */
static CURLcode stream_hop(struct xfer *x, CURLM *multi, al_httpc_chunk_fn on_chunk, void *ud)
{
	CURLMcode mc = curl_multi_add_handle(multi, x->easy);
	if (mc != CURLM_OK) {
		stop(x, AL_HTTPC_ERROR, curl_multi_strerror(mc));
		return CURLE_OK;
	}
	CURLcode rc = CURLE_OK;
	int64_t idle_ns = x->req->idle_timeout_ms > 0 ? x->req->idle_timeout_ms * 1000000 : 0;
	int64_t last_rx = al_monotonic_ns();
	uint64_t seen_rx = x->rx;
	for (;;) {
		int running;
		mc = curl_multi_perform(multi, &running);
		if (x->pending.len > 0 && x->abort_code == AL_HTTPC_OK) {
			char err[256] = "";
			enum al_httpc_chunk_result r = on_chunk(ud, x->pending.data, x->pending.len, err, sizeof err);
			al_buf_reset(&x->pending);
			last_rx = al_monotonic_ns(); /* time spent in the callback is not the peer's silence */
			seen_rx = x->rx;
			if (r == AL_HTTPC_CHUNK_DONE)
				break; /* a clean end: rc stays OK */
			if (r != AL_HTTPC_CHUNK_MORE) {
				stop(x, AL_HTTPC_CALLBACK, err[0] ? err : "the chunk callback failed");
				break;
			}
		}
		bool done = false;
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(multi, &left))) {
			if (msg->msg == CURLMSG_DONE) {
				rc = msg->data.result;
				done = true;
			}
		}
		if (done)
			break;
		if (mc != CURLM_OK) {
			stop(x, AL_HTTPC_ERROR, curl_multi_strerror(mc));
			break;
		}
		int64_t now = al_monotonic_ns();
		if (x->rx != seen_rx) {
			seen_rx = x->rx;
			last_rx = now;
		}
		if (al_httpc_thread_should_stop()) {
			stop(x, AL_HTTPC_STOPPED, "the stream was stopped (shutting down or the job was asked to stop)");
			break;
		}
		if (idle_ns > 0 && now - last_rx >= idle_ns) {
			char why[96];
			snprintf(why, sizeof why, "no data received for %lld ms", (long long)x->req->idle_timeout_ms);
			stop(x, AL_HTTPC_TIMEOUT, why);
			break;
		}
		curl_multi_poll(multi, NULL, 0, STREAM_POLL_MS, NULL);
	}
	curl_multi_remove_handle(multi, x->easy);
	return rc;
}

bool al_httpc_stream(const struct al_httpc_request *req, struct al_httpc_response *resp, al_httpc_chunk_fn on_chunk,
		     void *ud)
{
	/* A handle of its own: the chunk callback may use the thread's handle for other requests. */
	CURLM *multi = curl_multi_init();
	CURL *easy = multi ? curl_easy_init() : NULL;
	struct xfer x;
	if (xfer_begin(&x, req, resp, easy, true)) {
		while (hop_setup(&x) && hop_finish(&x, stream_hop(&x, multi, on_chunk, ud)))
			;
	}
	xfer_end(&x);
	curl_easy_cleanup(easy);
	curl_multi_cleanup(multi);
	return resp->code == AL_HTTPC_OK;
}
