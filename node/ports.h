/*
 * node/ports.h - is a TCP port free, and who holds it
 */
#ifndef KR_PORTS_H
#define KR_PORTS_H

/*
 * 0 if serve could bind ep now (ipc:// and port * always pass). Else
 * KR_EEXISTS "tcp://…: port P is already in use by process PID (CMDLINE)"
 * when /proc tells who listens there (same user, or root), or without the
 * holder when it does not; KR_EUSAGE for an endpoint that does not parse or
 * an address that is not on this machine.
 */
int kr_port_check(const char *ep);

/*
 * Who listens on TCP port (any address): pid and command line (caller
 * frees), from /proc/net/tcp{,6} and /proc/PID/fd. 0, or KR_ENOTFOUND.
 */
int kr_port_holder(unsigned port, int *pid, char **cmdline);

#endif
