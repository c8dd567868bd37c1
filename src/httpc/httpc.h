/* SPDX-License-Identifier: Apache-2.0 */
/* Outgoing HTTP(S) with libcurl: one request at a time on the calling thread's reused handle,
 * or concurrent batches (curl multi). Hard timeouts, a response size cap, manual redirects (each
 * hop checked again), http/https only, and the SSRF guard on every address actually connected. */
#ifndef AL_HTTPC_HTTPC_H
#define AL_HTTPC_HTTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "httpc/ssrf.h"

#define AL_HTTPC_DEFAULT_TIMEOUT_MS 10000
#define AL_HTTPC_DEFAULT_CONNECT_TIMEOUT_MS 5000
#define AL_HTTPC_DEFAULT_MAX_BYTES (1024 * 1024)
#define AL_HTTPC_DEFAULT_MAX_REDIRECTS 3
#define AL_HTTPC_MAX_HEADER_BYTES (64 * 1024) /* all response header lines of one response */

enum al_httpc_code {
	AL_HTTPC_OK,
	AL_HTTPC_TIMEOUT,
	AL_HTTPC_CONNREFUSED, /* could not connect (refused, unreachable) */
	AL_HTTPC_DNS,
	AL_HTTPC_TLS,
	AL_HTTPC_TOO_LARGE,
	AL_HTTPC_REFUSED, /* SSRF guard */
	AL_HTTPC_REDIRECTS,
	AL_HTTPC_BAD_URL,
	AL_HTTPC_NOT_JSON,
	AL_HTTPC_ERROR,
	AL_HTTPC_STOPPED,  /* a stream ended because the thread's stop check said so */
	AL_HTTPC_CALLBACK, /* a stream's chunk callback failed */
};

/* "timeout", "connection refused", "dns", "tls", "too large", "refused", "too many redirects",
 * "bad url", "not json", "error", "stopped", "callback" ("ok" for AL_HTTPC_OK). */
const char *al_httpc_code_name(enum al_httpc_code code);

/* Borrowed by al_httpc_fetch for the duration of the call. Zero values mean the defaults. */
struct al_httpc_request {
	const char *url;
	const char *method;          /* "GET" (NULL), "HEAD" or "POST" */
	const char *const *headers;  /* nheaders "Name: value" lines ("Name;" = empty value) */
	size_t nheaders;
	const char *body;            /* POST body (may contain NULs) */
	size_t body_len;
	int64_t timeout_ms;          /* whole exchange, redirects included */
	int64_t connect_timeout_ms;  /* each connection (capped by what is left of timeout_ms) */
	size_t max_bytes;            /* largest body accepted (after decompression) */
	int max_redirects;           /* < 0: the default; 0: a redirect is an error */
	bool ssrf_guard;             /* refuse blocked addresses unless in allow */
	const struct al_netlist *allow;
	bool json_only;              /* the final response must be application/json or +json */
	/* TLS (all optional): a CA bundle used instead of the system's, a client certificate and its
	 * key (PEM files), and no verification of the server at all (insecure_tls). */
	const char *ca_file, *cert_file, *key_file;
	bool insecure_tls;
	/* al_httpc_stream only: no byte received for this long ends it with AL_HTTPC_TIMEOUT (0 =
	 * no idle limit); timeout_ms 0 means no total limit and max_bytes caps the whole stream. */
	int64_t idle_timeout_ms;
};

struct al_httpc_header {
	char *name; /* lower case */
	char *value;
};

/* Owned by the caller after al_httpc_fetch; release with al_httpc_response_free. */
struct al_httpc_response {
	enum al_httpc_code code;
	char error[512];             /* "<code name>: <detail>" when code != AL_HTTPC_OK */
	long status;
	char *body;                  /* NUL-terminated (not counted in body_len); "" when empty */
	size_t body_len;
	struct al_httpc_header *headers; /* of the final response */
	size_t nheaders;
	char *url;                   /* the URL that gave the final response */
	int redirects;
	double duration_ms;
};

/* Once at start-up, after curl_global_init and before any thread uses httpc: parses the
 * operator's allow list (comma-separated CIDR ranges, may be empty). False with err set when
 * the list is invalid. */
bool al_httpc_init(const char *allowed_networks, char *err, size_t errlen);
/* For callers that may run without al_httpc_init (`agentlens run`): initialises with
 * allowed_networks unless already done; thread-safe. */
bool al_httpc_ensure_init(const char *allowed_networks, char *err, size_t errlen);
/* The allow list given to al_httpc_init (never NULL; empty before init). Process-lifetime. */
const struct al_netlist *al_httpc_allowed_networks(void);

/* Performs req on the calling thread's easy handle (created on first use, connections reused).
 * Always fills *resp (zeroed first); returns resp->code == AL_HTTPC_OK. Note that a completed
 * exchange with a 4xx/5xx status is OK at this level. */
bool al_httpc_fetch(const struct al_httpc_request *req, struct al_httpc_response *resp);
/* Performs n requests with at most concurrency (>= 1) in flight on one curl multi handle and
 * fills resps[i] for reqs[i], with the same guards and caps as al_httpc_fetch. */
void al_httpc_fetch_many(const struct al_httpc_request *reqs, size_t n, struct al_httpc_response *resps,
			 size_t concurrency);
void al_httpc_response_free(struct al_httpc_response *resp);

/* What a stream's chunk callback tells the stream. */
enum al_httpc_chunk_result {
	AL_HTTPC_CHUNK_MORE,  /* go on */
	AL_HTTPC_CHUNK_DONE,  /* end the transfer cleanly: the response is still OK */
	AL_HTTPC_CHUNK_ERROR, /* end it with AL_HTTPC_CALLBACK; the callback wrote the message */
};
typedef enum al_httpc_chunk_result (*al_httpc_chunk_fn)(void *ud, const char *data, size_t len, char *err,
							 size_t errlen);

/* Streams req's final response body to on_chunk as it arrives, on the calling thread (outside
 * curl's callbacks, so the callback may itself use al_httpc_fetch), on a handle of its own. The
 * response's body stays empty; status, headers and url are filled. A redirect's body is never
 * passed on. Ends with AL_HTTPC_STOPPED within ~100 ms once the thread's stop check is true,
 * even on a silent connection. Returns resp->code == AL_HTTPC_OK. */
bool al_httpc_stream(const struct al_httpc_request *req, struct al_httpc_response *resp, al_httpc_chunk_fn on_chunk,
		     void *ud);

/* The calling thread's stop check for streams (NULL to remove): a function asked every ~100 ms
 * whether the thread's work must end (a background job being stopped). */
void al_httpc_thread_set_stop_check(bool (*check)(void *ud), void *ud);
/* Whether the calling thread's stop check says stop (false without one). */
bool al_httpc_thread_should_stop(void);
/* Closes the calling thread's handles (they are also closed when a thread exits). */
void al_httpc_thread_close(void);

#endif
