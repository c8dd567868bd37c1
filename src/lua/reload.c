/* SPDX-License-Identifier: Apache-2.0 */
/* Lua host start-up and the reload thread (inotify on the Lua directories, explicit triggers). */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "lua/generation.h"
#include "lua/host.h"

/* Changes arriving within this window are one reload (editors write several files). */
#define DEBOUNCE_MS 150

static struct {
	int event_fd;  /* reload requests (value 1) and stop (value >= 1<<20) */
	int inotify_fd;
	pthread_t thread;
	bool running;
	atomic_bool stop;
} rl = {.event_fd = -1, .inotify_fd = -1};

bool al_lua_start(const struct al_config *cfg, char *err, size_t errlen)
{
	al_lua_config = cfg;
	if (rl.event_fd < 0 && (rl.event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return false;
	}
	return al_generation_reload(err, errlen);
}

void al_lua_request_reload(void)
{
	uint64_t one = 1;
	if (rl.event_fd >= 0) {
		ssize_t n = write(rl.event_fd, &one, sizeof one);
		(void)n;
	}
}

bool al_lua_reload_now(char *err, size_t errlen)
{
	return al_generation_reload(err, errlen);
}

static int add_watch_dir(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	if (type == FTW_D && inotify_add_watch(rl.inotify_fd, path,
					       IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
						       IN_DELETE_SELF | IN_ONLYDIR) < 0)
		al_warn("lua watcher: cannot watch %s: %s", path, strerror(errno));
	return 0;
}

/* Adds a watch on every directory; repeated after changes so new directories are watched
 * too (adding an existing watch is harmless). */
static void watch_all(void)
{
	if (rl.inotify_fd < 0 && (rl.inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) < 0) {
		al_warn("lua watcher: inotify unavailable (%s); reload with SIGHUP", strerror(errno));
		return;
	}
	const struct al_config *cfg = al_lua_config;
	if (cfg->lua_dir && cfg->lua_dir[0])
		nftw(cfg->lua_dir, add_watch_dir, 16, FTW_PHYS);
	if (cfg->scripts_dir && cfg->scripts_dir[0])
		nftw(cfg->scripts_dir, add_watch_dir, 4, FTW_PHYS);
}

static bool drain(int fd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool any = false;
	while (read(fd, buf, sizeof buf) > 0)
		any = true;
	return any;
}

static void *reload_thread(void *arg)
{
	const struct al_config *cfg = al_lua_config;
	bool watching = cfg->lua_watch && ((cfg->lua_dir && cfg->lua_dir[0]) || (cfg->scripts_dir && cfg->scripts_dir[0]));
	if (watching)
		watch_all();
	while (!atomic_load(&rl.stop)) {
		struct pollfd fds[2] = {{rl.event_fd, POLLIN, 0}, {watching ? rl.inotify_fd : -1, POLLIN, 0}};
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			al_error("lua watcher: poll: %s", strerror(errno));
			break;
		}
		if (atomic_load(&rl.stop))
			break;
		bool changed = (fds[1].revents & POLLIN) && drain(rl.inotify_fd);
		bool requested = (fds[0].revents & POLLIN) && drain(rl.event_fd);
		if (!changed && !requested)
			continue;
		/* Debounce: wait until the files have been quiet for DEBOUNCE_MS. */
		while (changed) {
			struct pollfd q = {rl.inotify_fd, POLLIN, 0};
			if (poll(&q, 1, DEBOUNCE_MS) <= 0 || !drain(rl.inotify_fd))
				break;
		}
		char err[1024];
		al_generation_reload(err, sizeof err);
		if (changed)
			watch_all();
	}
	return NULL;
}

bool al_lua_start_watcher(void)
{
	atomic_store(&rl.stop, false);
	if (pthread_create(&rl.thread, NULL, reload_thread, NULL) != 0) {
		al_error("cannot start the lua reload thread");
		return false;
	}
	rl.running = true;
	return true;
}

void al_lua_stop(void)
{
	if (rl.running) {
		atomic_store(&rl.stop, true);
		al_lua_request_reload();
		pthread_join(rl.thread, NULL);
		rl.running = false;
	}
	if (rl.inotify_fd >= 0)
		close(rl.inotify_fd);
	if (rl.event_fd >= 0)
		close(rl.event_fd);
	rl.inotify_fd = rl.event_fd = -1;
	al_generation_clear();
}
