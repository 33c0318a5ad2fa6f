/*
 * node/ports.c - a port in use, said before serve prints anything
 *
 * A trial bind (SO_REUSEADDR, as libzmq binds) tells whether a TCP port is
 * free; when it is not, /proc/net/tcp and /proc/net/tcp6 give the inode of
 * the listening socket and /proc/PID/fd the process that holds it (only
 * processes this user may inspect: as root, all). Used by `serve`,
 * `config check --ports` and deploy/run.sh (`make run`). Reentrant.
 */
#include "ports.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../sharing/common.h"
#include "home.h"

/* Inode of a socket listening on port in one /proc/net table, or 0. */
static unsigned long
s_listen_inode(const char *table, unsigned port)
{
	FILE *f = fopen(table, "r");
	char line[512];
	unsigned long inode = 0;

	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f)) { /* the header */
		fclose(f);
		return 0;
	}
	while (!inode && fgets(line, sizeof(line), f)) {
		char local[64], remote[64];
		unsigned st, p;
		unsigned long ino;
		const char *colon;
		/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, "%*s %63s %63s %x %*s %*s %*s %*s %*s %lu", local, remote, &st, &ino) != 4)
			continue;
		if (st != 0x0A || !(colon = strrchr(local, ':')) || sscanf(colon + 1, "%x", &p) != 1)
			continue;
		if (p == port)
			inode = ino;
	}
	fclose(f);
	return inode;
}

/* The process with a descriptor on socket:[inode], or 0. */
static int
s_socket_owner(unsigned long inode)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;
	char want[64];
	int pid = 0;

	if (!proc)
		return 0;
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	while (!pid && (de = readdir(proc))) {
		char dir[288];
		DIR *fds;
		struct dirent *fe;
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(dir, sizeof(dir), "/proc/%s/fd", de->d_name);
		if (!(fds = opendir(dir)))
			continue;
		while ((fe = readdir(fds))) {
			char link[600], target[64];
			ssize_t n;
			snprintf(link, sizeof(link), "%s/%s", dir, fe->d_name);
			if ((n = readlink(link, target, sizeof(target) - 1)) <= 0)
				continue;
			target[n] = '\0';
			if (strcmp(target, want) == 0) {
				pid = atoi(de->d_name);
				break;
			}
		}
		closedir(fds);
	}
	closedir(proc);
	return pid;
}

int
kr_port_holder(unsigned port, int *pid, char **cmdline)
{
	unsigned long inode = s_listen_inode("/proc/net/tcp", port);
	kr_buf cmd = KR_BUF_INIT;
	char path[64];

	*pid = 0;
	*cmdline = NULL;
	if (!inode)
		inode = s_listen_inode("/proc/net/tcp6", port);
	if (!inode || !(*pid = s_socket_owner(inode)))
		return KR_ENOTFOUND;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", *pid);
	if (kr_file_read(&cmd, path) == 0 && cmd.len > 0) {
		for (size_t i = 0; i + 1 < cmd.len; i++)
			if (cmd.ptr[i] == '\0')
				cmd.ptr[i] = ' ';
		while (cmd.len > 0 && cmd.ptr[cmd.len - 1] == '\0')
			cmd.len--;
		cmd.ptr[cmd.len] = '\0';
		*cmdline = kr_buf_detach(&cmd);
	} else {
		*cmdline = kr_strdup("?");
	}
	kr_buf_release(&cmd);
	kr_error_clear();
	return 0;
}

/* The addresses libzmq would bind for HOST (an IPv4 address or name, [v6], or *). */
static int
s_resolve(const char *host, size_t hostlen, const char *port, struct addrinfo **out)
{
	struct addrinfo hints = { 0 };
	char h[256];
	int e;

	/* libzmq binds IPv4 unless the address is written [v6] */
	hints.ai_family = AF_INET;
	if (hostlen >= 2 && host[0] == '[') {
		host++;
		hostlen -= 2;
		hints.ai_family = AF_INET6;
	}
	if (hostlen >= sizeof(h))
		return kr_error(KR_EUSAGE, "host name too long");
	memcpy(h, host, hostlen);
	h[hostlen] = '\0';
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((e = getaddrinfo(strcmp(h, "*") == 0 ? NULL : h, port, &hints, out)) != 0)
		return kr_error(KR_EUSAGE, "cannot resolve '%s': %s", h, gai_strerror(e));
	return 0;
}

int
kr_port_check(const char *ep)
{
	const char *host, *colon;
	struct addrinfo *ai = NULL, *a;
	unsigned port;
	int rc, err = 0;

	if ((rc = kr_config_endpoint_check(ep)) < 0)
		return rc;
	if (strncmp(ep, "tcp://", 6) != 0)
		return 0;
	host = ep + 6;
	colon = strrchr(host, ':');
	if (strcmp(colon + 1, "*") == 0)
		return 0;
	port = (unsigned)atoi(colon + 1);
	if (s_resolve(host, (size_t)(colon - host), colon + 1, &ai) < 0) {
		/* an interface name, or a name only zmq resolves: its bind will say */
		kr_error_clear();
		return 0;
	}
	for (a = ai; a && !err; a = a->ai_next) {
		int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol), one = 1;
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (a->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(fd, a->ai_addr, a->ai_addrlen) < 0 || listen(fd, 1) < 0)
			err = errno;
		close(fd);
	}
	freeaddrinfo(ai);
	if (err == EADDRINUSE) {
		int pid;
		char *cmd;
		if (kr_port_holder(port, &pid, &cmd) == 0) {
			rc = kr_error(KR_EEXISTS, "%s: port %u is already in use by process %d (%s); stop it, "
			    "or choose another port in the config", ep, port, pid, cmd);
			free(cmd);
			return rc;
		}
		return kr_error(KR_EEXISTS, "%s: port %u is already in use by another program (see: ss -ltnp "
		    "'sport = :%u'); stop it, or choose another port in the config", ep, port, port);
	}
	if (err == EADDRNOTAVAIL)
		return kr_error(KR_EUSAGE, "%s: that address is not one of this machine's", ep);
	if (err == EACCES)
		return kr_error(KR_EUSAGE, "%s: port %u needs privileges; use a port above 1023", ep, port);
	if (err)
		return kr_error(KR_EIO, "%s: cannot listen: %s", ep, strerror(err));
	return 0;
}
