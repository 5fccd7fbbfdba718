// SPDX-License-Identifier: GPL-2.0-only
/*
 * control.c - the daemon's control socket and the commands that use it:
 * control.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "control.h"
#include "run.h"

int control_no_daemon(int err)
{
	return err == -ENOENT || err == -ECONNREFUSED;
}

int control_connect(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", CONTROL_SOCKET);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int control_send(int fd, struct json_object *msg)
{
	const char *s = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN);
	size_t n = strlen(s);

	if (n > CONTROL_MAX_MSG)
		return -EMSGSIZE;
	/* never wait: a peer that reads nothing must not stall the daemon */
	if (send(fd, s, n, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)n)
		return errno ? -errno : -EIO;
	return 0;
}

int control_recv(int fd, struct json_object **msg)
{
	char *buf = malloc(CONTROL_MAX_MSG + 1);
	ssize_t n;

	*msg = NULL;
	if (!buf)
		return -ENOMEM;
	do
		n = recv(fd, buf, CONTROL_MAX_MSG + 1, MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n <= 0 || n > CONTROL_MAX_MSG) {
		free(buf);
		return n < 0 ? -errno : n == 0 ? -EPIPE : -EMSGSIZE;
	}
	buf[n] = '\0';
	*msg = json_tokener_parse(buf);
	free(buf);
	if (!*msg || !json_object_is_type(*msg, json_type_object)) {
		json_object_put(*msg);
		*msg = NULL;
		return -EBADMSG;
	}
	return 0;
}

struct json_object *control_call(int fd, struct json_object *req)
{
	struct json_object *reply;
	int err = control_send(fd, req);

	json_object_put(req);
	if (!err)
		err = control_recv(fd, &reply);
	if (err) {
		errno = -err;
		return NULL;
	}
	return reply;
}

const char *control_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

int64_t control_int(struct json_object *o, const char *key, int64_t dflt)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int)
		       ? json_object_get_int64(v)
		       : dflt;
}

/*
 * Send req (taken) to the daemon and print what its reply says; the
 * reply, or NULL after saying why (*code: the exit status).
 */
static struct json_object *ask(struct json_object *req, const char *what, int *code)
{
	struct json_object *reply;
	const char *said;
	int fd = control_connect();

	*code = RUN_EXIT_INTERNAL;
	if (fd < 0) {
		json_object_put(req);
		if (control_no_daemon(fd)) {
			fprintf(stderr, "pinfold: %s: no pinfold daemon runs (%s: %s)\n", what,
				CONTROL_SOCKET, strerror(-fd));
			*code = 3;
		} else {
			fprintf(stderr, "pinfold: %s: cannot reach the daemon at %s: %s\n", what,
				CONTROL_SOCKET, strerror(-fd));
		}
		return NULL;
	}
	reply = control_call(fd, req);
	close(fd);
	if (!reply) {
		fprintf(stderr, "pinfold: %s: the daemon did not answer: %s\n", what,
			strerror(errno));
		return NULL;
	}
	said = control_str(reply, "said");
	if (said && *said)
		fputs(said, stderr);
	if (!json_object_get_boolean(json_object_object_get(reply, "ok"))) {
		*code = (int)control_int(reply, "code", RUN_EXIT_INTERNAL);
		json_object_put(reply);
		return NULL;
	}
	*code = 0;
	return reply;
}

static struct json_object *request(const char *op)
{
	struct json_object *req = json_object_new_object();

	json_object_object_add(req, "op", json_object_new_string(op));
	return req;
}

/* One line per instance of the status reply. */
static void print_instances(struct json_object *list)
{
	size_t i, n = json_object_array_length(list);

	printf("instances:    %zu\n", n);
	for (i = 0; i < n; i++) {
		struct json_object *in = json_object_array_get_idx(list, i);

		printf("  %s  agent %s  slot %lld  generation %lld  uid %lld  tasks %lld  "
		       "allowed %lld  denied %lld  lost %lld  ring %lld/%lld bytes%s\n",
		       control_str(in, "instance") ?: "?", control_str(in, "agent") ?: "?",
		       (long long)control_int(in, "slot", -1),
		       (long long)control_int(in, "generation", 0),
		       (long long)control_int(in, "uid", -1),
		       (long long)control_int(in, "tasks", 0),
		       (long long)control_int(in, "allowed", 0),
		       (long long)control_int(in, "denied", 0),
		       (long long)control_int(in, "lost", 0),
		       (long long)control_int(in, "ring_used", 0),
		       (long long)control_int(in, "ring_size", 0),
		       json_object_get_boolean(json_object_object_get(in, "adopted"))
			       ? "  (adopted)"
			       : "");
	}
}

static void print_status(struct json_object *r)
{
	struct json_object *o, *v, *a;
	size_t i;

	printf("daemon:       pid %lld, up since %s\n", (long long)control_int(r, "pid", 0),
	       control_str(r, "started") ?: "?");
	printf("policy:       %s (sha256 %.12s), %lld reload(s)\n", control_str(r, "policy") ?: "?",
	       control_str(r, "policy_sha256") ?: "?", (long long)control_int(r, "reloads", 0));
	printf("admin group:  %s\n", control_str(r, "admin_group") ?: "(none: root only)");
	if (json_object_object_get_ex(r, "features", &o)) {
		printf("BPF LSM:      %s\n",
		       json_object_get_boolean(json_object_object_get(o, "bpf_lsm"))
			       ? "enforced (file rules hold)"
			       : control_str(o, "bpf_lsm_why") ?: "not enforced");
		printf("BTF:          %s\n",
		       json_object_get_boolean(json_object_object_get(o, "btf")) ? "yes" : "no");
		printf("cgroup v2:    %s\n", control_str(o, "cgroup2") ?: "?");
		printf("parent:       %s\n", control_str(o, "parent") ?: "?");
	}
	if (json_object_object_get_ex(r, "programs", &o)) {
		printf("programs:     %zu attached\n", json_object_array_length(o));
		for (i = 0; i < json_object_array_length(o); i++) {
			struct json_object *p = json_object_array_get_idx(o, i);
			long long runs = control_int(p, "run_cnt", 0);
			char cost[48] = "";

			v = p;
			if (runs > 0)
				snprintf(cost, sizeof(cost), "  %.0f ns/run over %lld runs",
					 (double)control_int(v, "run_time_ns", 0) / (double)runs,
					 runs);
			printf("  %-28s id %lld  link %lld%s%s\n", control_str(v, "name") ?: "?",
			       (long long)control_int(v, "id", 0),
			       (long long)control_int(v, "link", 0), cost,
			       json_object_object_get_ex(v, "attached", &a) &&
					       !json_object_get_boolean(a)
				       ? "  DETACHED: its rules are not enforced"
				       : "");
		}
	}
	if (json_object_object_get_ex(r, "instances", &o))
		print_instances(o);
	if (json_object_object_get_ex(r, "unadopted", &o) && json_object_array_length(o)) {
		printf("unadopted:    %zu (confined, unwatched; 'pinfold unload --force' ends them)\n",
		       json_object_array_length(o));
		for (i = 0; i < json_object_array_length(o); i++) {
			v = json_object_array_get_idx(o, i);
			printf("  %s  slot %lld: %s\n", control_str(v, "instance") ?: "?",
			       (long long)control_int(v, "slot", -1), control_str(v, "why") ?: "?");
		}
	}
	if (json_object_object_get_ex(r, "counters", &o)) {
		printf("counters:    ");
		json_object_object_foreach(o, key, val)
			printf(" %s %lld", key, (long long)json_object_get_int64(val));
		putchar('\n');
	}
}

int control_status_main(int argc, char **argv)
{
	bool json = argc == 2 && !strcmp(argv[1], "--json");
	struct json_object *r;
	int code;

	if (argc > 2 || (argc == 2 && !json)) {
		fprintf(stderr, "usage: pinfold status [--json]\n");
		return RUN_EXIT_USAGE;
	}
	r = ask(request("status"), "status", &code);
	if (!r)
		return code;
	if (json)
		printf("%s\n", json_object_to_json_string_ext(r, JSON_C_TO_STRING_PRETTY));
	else
		print_status(r);
	json_object_put(r);
	return 0;
}

int control_reload_main(int argc, char **argv)
{
	struct json_object *r;
	int code;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: pinfold reload\n");
		return RUN_EXIT_USAGE;
	}
	r = ask(request("reload"), "reload", &code);
	if (r)
		printf("%s\n", control_str(r, "outcome") ?: "done");
	json_object_put(r);
	return code;
}

int control_attach_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"agent", required_argument, NULL, 'a'},
		{"on-behalf-of", required_argument, NULL, 'B'},
		{"task", required_argument, NULL, 'T'},
		{"allow-degraded", no_argument, NULL, 'D'},
		{},
	};
	struct json_object *req = request("attach"), *r;
	const char *agent = NULL;
	bool degraded = false;
	char *end;
	long pid;
	int c, code;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		if (c == 'a')
			agent = optarg;
		else if (c == 'B' || c == 'T')
			json_object_object_add(req, c == 'B' ? "on_behalf_of" : "task",
					       json_object_new_string(optarg));
		else if (c == 'D')
			degraded = true;
		else
			goto usage;
	}
	if (!agent || optind != argc - 1)
		goto usage;
	errno = 0;
	pid = strtol(argv[optind], &end, 10);
	if (errno || *end || pid <= 0 || pid > INT_MAX) {
		fprintf(stderr, "pinfold: attach wants a process id, not '%s'\n", argv[optind]);
		json_object_put(req);
		return RUN_EXIT_USAGE;
	}
	json_object_object_add(req, "agent", json_object_new_string(agent));
	json_object_object_add(req, "pid", json_object_new_int64(pid));
	json_object_object_add(req, "allow_degraded", json_object_new_boolean(degraded));
	r = ask(req, "attach", &code);
	if (r)
		printf("process %ld confined as instance %s of agent %s\n", pid,
		       control_str(r, "instance") ?: "?", agent);
	json_object_put(r);
	return code;
usage:
	json_object_put(req);
	fprintf(stderr, "usage: pinfold attach --agent NAME [--on-behalf-of WHO] [--task ID] "
			"[--allow-degraded] PID\n");
	return RUN_EXIT_USAGE;
}

int control_unload(int force)
{
	struct json_object *req = request("unload"), *r;
	int fd = control_connect(), code;

	if (fd < 0) {
		json_object_put(req);
		return control_no_daemon(fd) ? -1 : RUN_EXIT_INTERNAL;
	}
	close(fd);
	json_object_object_add(req, "force", json_object_new_boolean(force));
	r = ask(req, "unload", &code);
	json_object_put(r);
	return code;
}
